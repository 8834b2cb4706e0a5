"""`alignsmith eval run`: generate and score, or score existing responses, into an eval run folder."""
from __future__ import annotations

import argparse
import sys

TASK_NAMES = "ifeval,constraints,safety,winrate"


def _parse_task_options(specs: list[str] | None) -> dict[str, dict]:
    """`task.key=value` → {task: {key: value}}; values are read by the one config loader (curate.core.config):
    numbers, lists and JSON/YAML mappings; `1e-3` is a number and `yes` stays text."""
    from alignsmith.curate.core.config import parse_value
    options: dict[str, dict] = {}
    for spec in specs or []:
        key, sep, value = spec.partition("=")
        task, dot, name = key.partition(".")
        if not sep or not dot or not task or not name:
            raise ValueError(f"--set {spec!r}: expected task.option=value, e.g. winrate.judge=reward")
        options.setdefault(task, {})[name] = parse_value(value)
    return options


def add_run(group) -> None:
    """Register `eval run` in the eval group; its flags' help is EvalRunConfig's field help."""
    from alignsmith.curate.core.config import field_help
    from alignsmith.evaluate.run_config import EvalRunConfig

    def h(name: str, default=None) -> str:
        return field_help(EvalRunConfig, name) + (f" (default: {default})" if default is not None else "")

    p = group.add_parser("run", help="evaluate a model (or a responses file) on eval tasks",
                         description="Generate responses with a backend (vLLM by default) or read them "
                                     "from --responses, score each task, and write an eval run folder "
                                     "(items.parquet, metrics.json, config.yaml, DONE).")
    p.add_argument("--model", help=h("model"))
    p.add_argument("--tasks", default=TASK_NAMES, help=h("tasks", TASK_NAMES) + "; comma-separated")
    p.add_argument("--out", help="run folder (default runs/eval/<utc>-<hash>)")
    p.add_argument("--limit", type=int, help=h("limit"))
    p.add_argument("--responses", help=h("responses"))
    p.add_argument("--backend", default="vllm", choices=["vllm", "hf", "openai"], help=h("backend", "vllm"))
    p.add_argument("--max-tokens", type=int, help=h("max_tokens"))
    p.add_argument("--temperature", type=float, default=0.0, help=h("temperature", 0.0))
    p.add_argument("--top-p", type=float, default=1.0, help=h("top_p", 1.0))
    p.add_argument("--seed", type=int, default=0, help=h("seed", 0))
    p.add_argument("--samples", type=int, default=1, help=h("samples", 1))
    p.add_argument("--label", help=h("label"))
    p.add_argument("--max-model-len", type=int, default=2048, help=h("max_model_len", 2048))
    p.add_argument("--set", dest="task_options", action="append", metavar="TASK.OPTION=VALUE",
                   help=h("task_options") + "; as flags: ifeval.path=FILE, winrate.judge=reward, "
                        "winrate.judge_model=DIR, winrate.reference=FILE_OR_RUN (repeatable)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from alignsmith.evaluate.runner import EvalRunConfig, run_eval
    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    cfg = EvalRunConfig(model=args.model, tasks=[t.strip() for t in args.tasks.split(",") if t.strip()],
                        limit=args.limit, backend=args.backend, responses=args.responses,
                        temperature=args.temperature, top_p=args.top_p, max_tokens=args.max_tokens,
                        seed=args.seed, max_model_len=args.max_model_len, samples=args.samples, label=args.label,
                        task_options=_parse_task_options(args.task_options))
    run = run_eval(cfg, args.out)
    metrics = run.read_metrics()
    for name, m in metrics.items():
        if m.get("value") is None:
            print(f"{name:32s}  n/a (n=0)")
            continue
        ci = "" if m.get("ci_low") is None else f"  [{m['ci_low']:.3f}, {m['ci_high']:.3f}]"
        print(f"{name:32s}  {m['value']:.4f}{ci}  n={m['n']}")
    print(f"wrote {run.path}", file=sys.stderr)
    return 0
