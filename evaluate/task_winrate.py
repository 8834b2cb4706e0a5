"""`winrate`: the model against reference answers, judged by a configurable judge.

References come from an AlpacaEval-format file (`instruction`, `output`; JSON list or JSONL) or from a
baseline eval run folder (its items.parquet responses). Per item: `win` (1 / 0.5 / 0), `length` and
`reference_length` (characters). Metrics: raw win rate and the length-controlled win rate.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

from alignsmith.curate.core.datafiles import iter_rows, read_parquet
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.records import as_messages, prompt_id
from alignsmith.curate.core.runs import metric

from .judges import JUDGES, Matchup
from .tasks import TASKS, EvalItem, EvalSample, MetricSpec, Task, data_path
from .winrate import length_controlled_win_rate

ALPACA_REFERENCE = "alpaca_eval/text_davinci_003_model_outputs.json"


def _reference_rows(path: Path) -> list[tuple[str, Any, dict]]:
    """(where, prompt, row) from an AlpacaEval-format file or a baseline run folder."""
    if path.is_dir():
        items = path / "items.parquet"
        if not items.exists():
            raise InputError("a baseline run folder needs items.parquet", path=str(path))
        return [(f"{items}:{i}", r["prompt"], {"output": r["response"], "source_task": r.get("task")})
                for i, r in enumerate(read_parquet(items), 1)]
    rows = []
    for line, r in iter_rows(path):
        prompt = r.get("instruction", r.get("prompt"))
        output = r.get("output", r.get("response"))
        if prompt is None:
            raise InputError("missing field (AlpacaEval format has instruction + output)", path=str(path),
                             line=line, field="instruction")
        if not isinstance(output, str):
            raise InputError("missing or non-text reference answer", path=str(path), line=line, field="output")
        rows.append((f"{path}:{line}", prompt, r))
    return rows


@TASKS.register("winrate")
class WinRateTask(Task):
    """Options: `reference` (file or run folder), `judge` (llm | reward | verifiers), `judge_model`, ..."""

    name = "winrate"
    # The task's own options plus those its judges read (evaluate/judges.py), checked in tasks.get_task.
    OPTIONS = {"judge": str, "reference": str | Path, "judge_model": str | Path | None, "judge_backend": str,
               "judge_backend_options": dict | None, "vote": str, "tie_margin": float, "batch_size": int,
               "max_length": int, "max_chars": int, "cache": Any, "mode": str, "backend": Any,
               "self_model": str | None}
    version = "2"   # 2: AlpacaEval-LC GLM for lc_win_rate (evaluate.lc_glm)
    primary = "win"
    metrics = (MetricSpec("win", True, description="raw win rate against the reference (ties half)"),)

    def __init__(self, **options: Any):
        super().__init__(**options)
        self._backend = None
        self._model = None
        self.judge_notes: dict = {}

    def items(self) -> list[EvalItem]:
        path = data_path(self.options.get("reference"), ALPACA_REFERENCE, "win-rate reference outputs")
        items, seen = [], {}
        for where, prompt, row in _reference_rows(path):
            messages = as_messages(prompt)
            pid = prompt_id(messages)
            if pid in seen:
                continue  # the same prompt twice in a reference file: the first answer is the reference
            seen[pid] = where
            info = {"reference": row["output"]}
            for key in ("instruction_id_list", "kwargs"):
                if row.get(key) is not None:
                    info[key] = row[key]
            items.append(EvalItem(pid, messages, info, str(row.get("dataset") or row.get("source_task") or "")))
        return items

    def attach(self, *, model: str | None = None, backend: Any = None) -> None:
        self._model, self._backend = model, backend

    def _judge(self):
        name = self.options.get("judge", "llm")
        options = {k: v for k, v in self.options.items() if k not in ("judge", "reference")}
        if name == "llm" and not options.get("judge_model"):
            # Self-judging: reuse the loaded engine, or load the evaluated model when scoring a file.
            if self._backend is not None:
                options["backend"] = self._backend
                options["self_model"] = self._model  # names the judge in the reply cache
            elif self._model:
                options["judge_model"] = self._model
        return JUDGES.get(name)(**options)

    def score_batch(self, samples: Sequence[EvalSample]) -> list[dict[str, float | None]]:
        judge = self._judge()
        matchups = [Matchup(s.item.prompt, s.response, s.item.info["reference"], s.item.info) for s in samples]
        outcomes = judge.judge(matchups)
        self.judge_notes = dict(judge.notes)
        if self.options.get("judge", "llm") == "llm":
            self.judge_notes.update(self._judge_card_notes())
        return [{"win": None if o is None else float(o), "length": float(len(s.response)),
                 "reference_length": float(len(s.item.info["reference"]))} for s, o in zip(samples, outcomes)]

    def _judge_card_notes(self) -> dict:
        """The judge's card (agreement with humans) and loud warnings, recorded with the win rate."""
        from alignsmith.curate.judges.cards import judge_card_summary

        from .judge_card import self_preference_warning
        judge_model = self.options.get("judge_model") or self._model
        summary = judge_card_summary(str(judge_model) if judge_model else None)
        notes = {"card": summary["judge_card"], "agreement": summary.get("judge_agreement"),
                 "agreement_ci": summary.get("judge_agreement_ci"), "warnings": list(summary["judge_warnings"])}
        warn = self_preference_warning(str(judge_model) if judge_model else None, [self._model] if self._model else [])
        if warn:
            notes["warnings"].append(warn)
        for w in notes["warnings"]:
            print(f"winrate: WARNING: {w}", file=sys.stderr)
        return notes

    def score(self, sample: EvalSample) -> dict[str, float | None]:
        return self.score_batch([sample])[0]

    def settings(self) -> dict:
        settings = super().settings()
        settings.setdefault("judge", "llm")
        if settings["judge"] == "llm" and not settings.get("judge_model"):
            settings["judge_model"] = f"(self) {self._model}" if self._model else None
        return settings

    def aggregate(self, rows: Sequence[dict], *, seed: int = 0) -> dict[str, dict]:
        out = super().aggregate(rows, seed=seed)
        scored = [r for r in rows if r.get("win") is not None]
        lc = length_controlled_win_rate([r["win"] for r in scored], [r["length"] for r in scored],
                                        [r["reference_length"] for r in scored], seed=seed)
        value = None if lc.n == 0 else lc.value
        out["winrate/lc_win_rate"] = metric(value, higher_is_better=True, n=lc.n,
                                            ci=None if lc.n == 0 else (lc.ci_low, lc.ci_high),
                                            note="length-controlled (AlpacaEval-LC GLM, one model): predicted win rate at equal length")
        return out
