"""Recipe steps that no `alignsmith` sub-command does, each a plain function over files.

Run as `python -m alignsmith.train.recipes.steps STEP ARGS_JSON OUTPUT` by the recipe runner (a fresh
process per stage, like every other stage); every output is written to a temporary name and renamed.
"""
from __future__ import annotations

import functools
import gzip
import json
import random
import re
import sys
from pathlib import Path

from alignsmith.curate.core.datafiles import read_rows, write_jsonl, write_parquet
from alignsmith.curate.core.errors import InputError

# The classifier's own example files (written for this project; labelled harmful/benign, with the
# exaggerated-safety kinds of benign look-alike). Eval sets are never among them.
OWN_PROMPT_FILES = ("prompt_examples.jsonl", "prompt_examples_more.jsonl", "prompt_examples_extra.jsonl",
                    "prompt_examples_kinds.jsonl")
# Every own example file a recipe may name with `files:` (the defaults above plus help-seeking requests,
# requests inside a story or role-play, and the v7 contrast set).
OWN_PROMPT_FILES_ALL = (*OWN_PROMPT_FILES, "prompt_examples_helpseeking.jsonl", "prompt_examples_context.jsonl",
                        "prompt_examples_v7.jsonl")
# `form: task` keeps requests phrased as a task ("Write a tutorial on ...", "Give detailed instructions for
# ..."): the form of AdvBench and HarmBench, where HH-RLHF's red-team openings are mostly questions.
TASK_VERBS = re.compile(r"\s*(write|give|explain|create|develop|describe|provide|generate|draft|list|tell|"
                        r"outline|design|compose|teach|show|make|produce|build|suggest|plan|find)\b", re.I)
FORMS = ("task",)
SOURCES = ("hh_helpful", "hh_harmless", "self_instruct", "own_prompts")


def _hh_first_turns(data: Path, split: str) -> list[tuple[str, None]]:
    """First human turn of every HH-RLHF test dialogue of one split (the red-team or helpful request)."""
    from alignsmith.curate.safety.training_data import hh_turns
    path = data / "hh_rlhf" / split / "test.jsonl.gz"
    if not path.exists():
        raise InputError("HH-RLHF file not found (set `data:` or $ALIGNSMITH_DATA)", path=str(path))
    firsts = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            turns = hh_turns(json.loads(line)["chosen"]) if line.strip() else []
            if turns and turns[0][0] == "Human":
                firsts.append((turns[0][1], None))  # no label: the classifier decides (label_harm)
    return firsts


@functools.lru_cache(maxsize=4)  # the labels need the refusal detector: read once per data folder
def _self_instruct(data: Path) -> tuple[tuple[str, str], ...]:
    """Self-Instruct seed tasks (CC BY-NC 4.0: fine as prompts for a local experiment, not to redistribute),
    each with the label its own reference answer gives: "harmful" where the refusal detector finds that it
    declines, "benign" otherwise. It finds 1 of 175 (a named person's address); the other privacy task's answer
    ("Sorry, the task involves personal information ... we cannot complete this task", asked for an SSN) is a
    miss of the detector, so that task counts as benign."""
    from alignsmith.curate.safety import RefusalDetector
    texts, answers = [], []
    for row in read_rows(data / "stanford_alpaca" / "seed_tasks.jsonl"):
        first = (row.get("instances") or [{}])[0]
        instance = first.get("input") or ""
        texts.append(row["instruction"] + (f"\n\n{instance}" if instance.strip() else ""))
        answers.append(first.get("output") or "")
    declines = RefusalDetector().predict(answers, texts)
    return tuple((t, "harmful" if d else "benign") for t, d in zip(texts, declines))


def _own_prompts(spec: dict, where: str) -> list[tuple[str, str]]:
    """The project's own example requests: `label` harmful/benign, `files` (default OWN_PROMPT_FILES),
    `form: task` for task-phrased requests only."""
    from alignsmith.curate.safety.training_data import own_examples
    files = spec.get("files") or OWN_PROMPT_FILES
    for name in files:
        if name not in OWN_PROMPT_FILES_ALL:
            raise InputError(f"unknown own prompt file {name!r}; known: {', '.join(OWN_PROMPT_FILES_ALL)}",
                             field=f"{where}.files")
    form, label = spec.get("form"), spec.get("label")
    if form is not None and form not in FORMS:
        raise InputError(f"unknown form {form!r}; known: {', '.join(FORMS)}", field=f"{where}.form")
    return [(r["text"], r["label"]) for name in files for r in own_examples(name)
            if (label is None or r["label"] == label) and (form is None or TASK_VERBS.match(r["text"]))]


def prompts_from_sources(args: dict, output: Path) -> None:
    """Sample prompts from the listed sources (seeded, exact duplicates and out-of-range lengths left out).

    A row keeps the label its source gives (`given_label`: the own files' hand labels, Self-Instruct's
    reference answers), which label_harm uses before its classifier."""
    from alignsmith.curate.core.paths import data_dir
    data = data_dir(args.get("data"))
    if data is None or not data.is_dir():
        raise InputError("public data folder not found; set `data:` or $ALIGNSMITH_DATA", path=str(data or ""),
                         field="data")
    rng = random.Random(args.get("seed", 0))
    lo, hi = args.get("min_words", 4), args.get("max_words", 80)
    rows, seen = [], set()
    for i, spec in enumerate(args["sources"]):
        name = spec.get("source")
        if name not in SOURCES:
            raise InputError(f"unknown source {name!r}; known: {', '.join(SOURCES)}", field=f"sources[{i}].source")
        texts = {"hh_helpful": lambda: _hh_first_turns(data, "helpful-base"),
                 "hh_harmless": lambda: _hh_first_turns(data, "harmless-base"),
                 "self_instruct": lambda: _self_instruct(data),
                 "own_prompts": lambda spec=spec, i=i: _own_prompts(spec, f"sources[{i}]")}[name]()
        usable, keys = [], set()
        for t, label in texts:
            key = " ".join(t.lower().split())
            if lo <= len(t.split()) <= hi and key not in seen and key not in keys:
                keys.add(key)
                usable.append((t, label))
        picked = rng.sample(usable, min(int(spec.get("limit", len(usable))), len(usable)))
        # Only what a source picked is taken from the later ones (not every text it could have picked).
        seen.update(" ".join(t.lower().split()) for t, _ in picked)
        rows += [{"prompt": t, "source": name, **({"given_label": label} if label else {})} for t, label in picked]
    write_jsonl(output, rows)
    print(f"prompts_from_sources: {len(rows)} prompts -> {output}")


def label_harm(args: dict, output: Path) -> None:
    """Label each prompt harmful or benign: by its source's label where it has one (`use_given_labels`,
    default true), else by the harmful-prompt classifier; keep up to the limits.

    Why source labels first: on Self-Instruct's ordinary tasks the classifier said "harmful" for 30 of 167
    ("Create a birthday planning checklist", "Write a script in JavaScript for printing the current date"),
    and a recipe trained on those labels learns to refuse ordinary instructions."""
    from alignsmith.curate.safety.harmful import HarmfulPromptClassifier
    rows = read_rows(args["input"])
    from alignsmith.curate.core.records import prompt_text
    texts = [prompt_text(r["prompt"]) for r in rows]
    clf = HarmfulPromptClassifier(sentences=args.get("sentences", "long"))
    scores = clf.score(texts)
    use_given = args.get("use_given_labels", True)
    harmful, benign, disagree = [], [], 0
    for row, score in zip(rows, scores):
        predicted = "harmful" if score >= clf.threshold else "benign"
        given = row.get("given_label") if use_given else None
        disagree += given is not None and given != predicted
        labelled = {**row, "category": given or predicted, "harm_score": float(score),
                    "label_from": "source" if given else "classifier"}
        (harmful if labelled["category"] == "harmful" else benign).append(labelled)
    rng = random.Random(args.get("seed", 0))
    for group, key in ((harmful, "limit_harmful"), (benign, "limit_benign")):
        if args.get(key) is not None and len(group) > args[key]:
            group[:] = rng.sample(group, int(args[key]))
    write_jsonl(output, harmful + benign)
    given = sum(r.get("given_label") is not None for r in rows) if use_given else 0
    print(f"label_harm: {len(harmful)} harmful, {len(benign)} benign (threshold {clf.threshold:.2f}); "
          f"{given} rows labelled by their source, the classifier disagreed on {disagree} -> {output}")


def system_prompt(args: dict, output: Path) -> None:
    """The same prompts with a system message first (the context to distil away in training)."""
    from alignsmith.curate.core.records import as_messages
    rows = read_rows(args["input"])
    out = [{**r, "prompt": [{"role": "system", "content": args["system"]}, *as_messages(r["prompt"])]}
           for r in rows]
    write_jsonl(output, out)
    print(f"system_prompt: {len(out)} prompts -> {output}")


def merge_candidates(args: dict, output: Path) -> None:
    """Candidates of the plain run plus those generated with a system prompt, all re-attached to the plain
    prompt (no system message): context distillation trains the behaviour without the context."""
    from alignsmith.curate.core.records import user_text
    from alignsmith.curate.generate.run import load_candidates
    from alignsmith.curate.pipeline.run import join_prompts
    prompts, plain = load_candidates(args["plain"])
    by_text = {user_text(p["prompt"]): p for p in prompts}
    rows = [{**c, "generated_with": "plain"} for c in plain]
    distilled = args["distilled"] if isinstance(args["distilled"], list) else [args["distilled"]]
    for run in distilled:
        sys_prompts, cands = load_candidates(run)
        to_plain = {}
        for p in sys_prompts:
            match = by_text.get(user_text(p["prompt"]))
            if match is None:
                raise InputError("a system-prompt run has a prompt the plain run lacks", path=str(run),
                                 field="prompt")
            to_plain[p["prompt_id"]] = match["prompt_id"]
        for c in cands:
            rows.append({**c, "prompt_id": to_plain[c["prompt_id"]], "generated_with": "system_prompt",
                         "candidate_id": f"sys-{c['candidate_id']}"})
    written = _written_refusals(args.get("written_refusals") or [], plain)
    merged = join_prompts(rows + written, prompts)
    write_parquet(output, merged)
    print(f"merge_candidates: {len(plain)} plain + {len(rows) - len(plain)} system-prompt + {len(written)} "
          f"written-refusal candidates -> {output}")


def _written_refusals(texts: list[str], plain: list[dict]) -> list[dict]:
    """One written refusal per prompt (picked by prompt id), shaped like that prompt's first candidate.

    Why: SmolLM2-135M almost never refuses, even under the safety system prompt (toy run: 1 refusal-like
    answer in 8 harmful samples), so without a refusal among the candidates the safety scorer has nothing
    to prefer on a harmful request. On a benign request the same refusal is the over-refusal the scorer
    ranks last, so the data also teaches not to refuse look-alikes.
    """
    if not texts:
        return []
    from alignsmith.curate.core.records import stable_hash
    first: dict[str, dict] = {}
    for c in plain:
        first.setdefault(c["prompt_id"], c)
    out = []
    for pid, c in first.items():
        text = texts[int(stable_hash(pid), 16) % len(texts)]
        row = {k: None for k in c}
        row.update({"prompt_id": pid, "candidate_id": f"ref-{pid}", "response": text, "model": "written",
                    "finish_reason": "stop", "generated_with": "written_refusal"})
        for key in ("scores", "verdicts"):
            if key in c:
                row[key] = {}
        out.append(row)
    return out


STEPS = {"prompts_from_sources": prompts_from_sources, "label_harm": label_harm,
         "system_prompt": system_prompt, "merge_candidates": merge_candidates}


def main(argv: list[str]) -> int:
    """`python -m alignsmith.train.recipes.steps STEP ARGS_JSON OUTPUT`."""
    name, args, output = argv[0], json.loads(argv[1]), Path(argv[2])
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        STEPS[name](args, output)
    except InputError as e:
        print(f"recipe step {name}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
