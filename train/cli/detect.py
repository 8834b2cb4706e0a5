"""`alignsmith detect refusal|harmful-prompt`: label a file's rows, one JSON line out per row in."""
from __future__ import annotations


def register(sub) -> None:
    """Add the `detect` command group."""
    p = sub.add_parser("detect", help="detect refusals in responses or harmful requests in prompts")
    group = p.add_subparsers(dest="detect_command", metavar="WHAT", required=True)

    r = group.add_parser("refusal", help="is each response a (full or partial) refusal?")
    _common(r)
    r.add_argument("--prompt-field", default=None, help="column with the prompt (used by --judge-backend)")
    r.set_defaults(func=run_refusal)

    h = group.add_parser("harmful-prompt", help="does each prompt ask for help with harm?")
    _common(h)
    h.add_argument("--sentences", choices=["long", "always"], default="long",
                   help="score sentence by sentence as well as whole: only prompts longer than the model's window "
                        "(long, default) or every prompt of several sentences (always: catches a harmful ask "
                        "after a benign sentence, loses context given in another sentence)")
    h.set_defaults(func=run_harmful_prompt)


def _common(p) -> None:
    p.add_argument("--input", required=True, help="rows to label (.csv or .jsonl; .json/.parquet also work)")
    p.add_argument("--text-field", required=True, help="column with the text to label")
    p.add_argument("--out", required=True, help="output .jsonl: one line per input row, in order")
    p.add_argument("--threshold", type=float, default=None,
                   help="score at or above which the label is true (default 0.5; harmful-prompt: the threshold "
                        "stored with the shipped weights)")
    p.add_argument("--judge-backend", default=None, choices=["vllm", "hf", "openai"],
                   help="label with an LLM judge through this backend instead of the local classifier")
    p.add_argument("--judge-model", default=None, help="model name or folder for --judge-backend")


def _judge(args, kind: str):
    if not args.judge_backend:
        return None
    if not args.judge_model:
        raise ValueError("--judge-backend needs --judge-model (a model name or local folder)")
    from alignsmith.curate.safety.judge import LLMJudge
    return LLMJudge(args.judge_backend, args.judge_model, kind=kind, threshold=_or_half(args.threshold))


def _or_half(threshold: float | None) -> float:
    return 0.5 if threshold is None else threshold


def run_refusal(args) -> int:
    """Handler for `detect refusal`."""
    from alignsmith.curate.safety.detect_files import detect_refusals
    from alignsmith.curate.safety.refusal import RefusalDetector
    detector = _judge(args, "refusal") or RefusalDetector(threshold=_or_half(args.threshold))
    n = detect_refusals(args.input, args.text_field, args.out, prompt_field=args.prompt_field, detector=detector)
    _report(detector, n, args.out)
    return 0


def run_harmful_prompt(args) -> int:
    """Handler for `detect harmful-prompt`."""
    from alignsmith.curate.safety.detect_files import detect_harmful_prompts
    from alignsmith.curate.safety.harmful import HarmfulPromptClassifier
    classifier = (_judge(args, "harmful_prompt")
                  or HarmfulPromptClassifier(threshold=args.threshold, sentences=args.sentences))
    n = detect_harmful_prompts(args.input, args.text_field, args.out, classifier=classifier)
    _report(classifier, n, args.out)
    return 0


def _report(model, n: int, out: str) -> None:
    failures = getattr(model, "parse_failures", None)
    extra = f"; {len(failures)} judge answers unparsable (scored locally)" if failures else ""
    print(f"wrote {n} rows to {out}{extra}")
