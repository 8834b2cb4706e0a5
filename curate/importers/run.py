"""`import_dataset`: read a source file with one reader, quarantine what cannot be read, write a run folder.

The run folder (kind `import`) holds the rows other stages read directly: `prompts.parquet` (generate,
ppo/grpo), `sft.parquet` (train sft), `dpo.parquet` (train dpo/rm) and `quarantine.parquet` (every skipped
row with its line, field and reason). UltraFeedback's rated completions go through `pairs.build_pairs`
(the same rules and dataset card as `alignsmith pairs`), so its drops are counted the same way.
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.datafiles import iter_rows
from ..core.errors import InputError
from ..core.records import candidate_id, make_prompt_row
from ..core.run_state import file_sha256
from ..core.runs import RunFolder
from .base import IMPORTERS, Importer, Record, RowSkip, get_importer, importer_class
from .held_out import GoldHoldOut

# --format auto tries the readers in this order; the first that matches most sampled rows wins.
AUTO_ORDER = ("hh-rlhf", "ultrafeedback", "sharegpt", "openai", "alpaca")
AUTO_SAMPLE = 50
RAW_PREVIEW_CHARS = 2_000  # how much of a skipped row the quarantine keeps
# UltraFeedback pairs: the combined score is the chosen rating; the best completion against a random lower
# one is the recipe of the widely used ultrafeedback_binarized set. Every other PairsConfig field keeps its
# default (ties, margin, near-identical, per-prompt cap, length balance) unless overridden.
RATED_PAIRS_DEFAULTS = {"scorers": {}, "weights": {"rating": 1.0}, "strategy": "best_vs_random_lower"}


@dataclass
class ImportResult:
    """What an import produced (rows kept in memory for callers and tests)."""

    run_dir: str
    format: str
    rows_read: int
    prompts: list[dict]
    sft: list[dict]
    pairs: list[dict]
    quarantine: list[dict]
    pairs_stats: dict | None = None
    skipped_by_reason: dict = field(default_factory=dict)
    reused: bool = False  # the --out folder was already a finished import of the same file and options
    held_out: dict | None = None  # --exclude-gold: what was held out (see importers.held_out)

    def summary(self) -> str:
        """The short summary the CLI prints."""
        lines = [f"import ({self.format}): {self.rows_read} rows read -> {len(self.prompts)} prompts, "
                 f"{len(self.sft)} SFT rows, {len(self.pairs)} pairs; {len(self.quarantine)} rows skipped"]
        lines += [f"  skipped {n}: {reason}" for reason, n in list(self.skipped_by_reason.items())[:8]]
        if self.held_out:
            h = self.held_out
            lines.append(f"held out {h['held_out']} rows = {h['gold_items_found']} of the {h['gold_items']} gold "
                         f"items ({h['source']}); the other gold items are not among this file's importable "
                         f"pairs; {h['kept_pairs_sharing_a_gold_prompt']} kept pairs share a gold prompt with "
                         "other answers")
        if self.reused:
            lines.append(f"already imported: {self.run_dir}/ is finished with the same file and options (unchanged)")
        else:
            lines.append(f"wrote {self.run_dir}/ (prompts.parquet, sft.parquet, dpo.parquet where present, "
                         "quarantine.parquet, card.md)")
        return "\n".join(lines)


def file_fingerprint(path: Path) -> str:
    """sha256 of the file's bytes (16 hex digits), so a changed source file makes a new run."""
    return "sha256:" + file_sha256(path)[:16]


def read_source(path: Path, strict: bool) -> tuple[list[tuple[int, dict]], list[dict], InputError | None]:
    """(line, row) pairs, quarantined unreadable lines, and (strict, or formats read whole) the read error
    that stopped reading: the caller raises it after the rows before it, so the first problem in file order
    is the one reported."""
    if strict or not path.name.endswith((".jsonl", ".ndjson", ".jsonl.gz")):
        rows: list[tuple[int, dict]] = []
        try:
            for item in iter_rows(path):
                rows.append(item)
        except InputError as e:
            if not rows:
                raise
            return rows, [], e
        return rows, [], None
    from ..core.quarantine import read_rows_quarantined
    rows, unreadable = read_rows_quarantined(path)
    bad = [{"line": u["_line"], "field": None, "drop_reason": u["drop_reason"].replace("input:", "import:", 1),
            "raw": u["raw"]} for u in unreadable]
    return [(r.pop("_line"), r) for r in rows], bad, None


def detect_format(rows: list[tuple[int, dict]], path: str) -> str:
    """The reader whose signature matches most of the first rows (--format auto)."""
    sample = [row for _, row in rows[:AUTO_SAMPLE]]
    counts = {name: sum(importer_class(name).signature(r) for r in sample) for name in AUTO_ORDER}
    best = max(AUTO_ORDER, key=lambda n: counts[n])  # max keeps the first of equals: AUTO_ORDER decides ties
    if not sample or counts[best] == 0:
        keys = ", ".join(sample[0]) if sample else "no rows"
        raise InputError(f"cannot tell the format (first row's fields: {keys}); pass --format, one of "
                         f"{', '.join(IMPORTERS.names())}", path=path)
    return best


def convert_rows(importer: Importer, rows: list[tuple[int, dict]], path: str,
                 strict: bool) -> tuple[list[tuple[int, Record]], list[dict]]:
    """Records with their source line, and the rows the reader skipped (strict: InputError instead)."""
    records, bad = [], []
    for line, row in rows:
        try:
            records += [(line, rec) for rec in importer.convert(row)]
        except RowSkip as e:
            if strict:
                raise InputError(e.reason, path=path, line=line, field=e.field) from None
            raw = json.dumps(row, ensure_ascii=False, default=str)[:RAW_PREVIEW_CHARS]
            where = f"{e.field}: " if e.field else ""
            bad.append({"line": line, "field": e.field, "drop_reason": f"import: {where}{e.reason}", "raw": raw})
    return records, bad


def _plain(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool)) and k != "category"}


def build_rows(records: list[tuple[int, Record]], source: str) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """(prompt rows, SFT rows, pair rows, rated candidate rows); prompt rows are unique by prompt_id."""
    prompts: dict[str, dict] = {}
    sft, pairs, candidates = [], [], []
    for line, rec in records:
        meta = _plain(rec.meta)
        category = str(rec.meta.get("category") or rec.meta.get("dataset") or "")
        prow = make_prompt_row(rec.prompt, category=category, source=source, line=line, **meta)
        pid = prow["prompt_id"]
        prompts.setdefault(pid, prow)
        common = {"prompt_id": pid, "source": source, "line": line, "category": category, **meta}
        if rec.completion is not None:
            sft.append({"prompt": rec.prompt, "completion": rec.completion, **common})
        if rec.chosen is not None and rec.rejected is not None:
            pairs.append({"prompt": rec.prompt, "chosen": rec.chosen, "rejected": rec.rejected,
                          "strategy": "source_preference", **common})
        for i, cand in enumerate(rec.candidates):
            candidates.append({"prompt_id": pid, "candidate_id": candidate_id(pid, i, cand["model"], line),
                               "response": cand["response"], "model": cand["model"],
                               "scores": {"rating": cand["rating"]}, "line": line})
    return list(prompts.values()), sft, pairs, candidates


def skipped_by_reason(quarantine: list[dict]) -> dict[str, int]:
    """Skip counts by reason, with list indices folded ([3] -> [*]) so the same problem counts once."""
    counts = Counter(re.sub(r"\[\d+\]", "[*]", q["drop_reason"]) for q in quarantine)
    return dict(counts.most_common())


def import_dataset(path: str | os.PathLike, fmt: str = "auto", out: str | os.PathLike | None = None, *,
                   strict: bool = False, options: dict[str, Any] | None = None,
                   pairs_overrides: dict | None = None, hold_out: GoldHoldOut | None = None) -> ImportResult:
    """Import one file in `fmt` (a reader name or "auto") into a run folder; see the module docstring.

    `options` go to the reader (alpaca_join, turns, rating); `pairs_overrides` to the PairsConfig used for
    rated completions. With `strict`, the first unusable row raises InputError (file, line, field).
    `hold_out` moves every pair that is one of its gold items to the quarantine (named by gold item).
    """
    path = Path(path)
    rows, bad, read_error = read_source(path, strict)
    name = detect_format(rows, str(path)) if fmt == "auto" else fmt
    IMPORTERS.get(name)  # an unknown name fails here with "did you mean"
    reader_options = _options_for(name, options or {})
    importer = get_importer(name, **reader_options)
    records, skipped = convert_rows(importer, rows, str(path), strict)
    if read_error is not None:  # every row before the unreadable one converted; now report it
        raise read_error
    held, held_stats = [], None
    if hold_out is not None:
        records, held, held_stats = hold_out.split(records, rows, RAW_PREVIEW_CHARS)
    quarantine = sorted(bad + skipped + held, key=lambda q: q["line"])
    if not records:
        reasons = "; ".join(list(skipped_by_reason(quarantine))[:3]) or "the file has no rows"
        raise InputError(f"no row could be imported as {name}: {reasons}", path=str(path))
    source = f"{name}:{path.name}"
    prompts, sft, pairs, candidates = build_rows(records, source)
    config = {"format": name, "input": str(path), "input_fingerprint": file_fingerprint(path),
              "options": importer.recorded_options(), "strict": strict}
    if hold_out is not None:
        config["exclude_gold"] = hold_out.describe()
    pairs_result = None
    if candidates:
        from ..pairs.build import PairsConfig, build_pairs
        pairs_config = PairsConfig.from_dict({**RATED_PAIRS_DEFAULTS, **(pairs_overrides or {})})
        config["pairs"] = pairs_config.to_dict()
        pairs_result = build_pairs(candidates, prompts, pairs_config)
        pairs, sft = [{**p, "source": source} for p in pairs_result.pairs], \
            [{**r, "source": source} for r in pairs_result.sft]
    result = ImportResult("", name, len(rows) + len(bad), prompts, sft, pairs, quarantine,
                          pairs_result.stats if pairs_result else None, skipped_by_reason(quarantine),
                          held_out=held_stats)
    run = RunFolder.open("import", config, out)
    result.run_dir = str(run.path)
    if run.done:  # same file, same options: the finished folder already holds exactly these rows
        result.reused = True
        return result
    from .writing import write_import_run
    write_import_run(run, result, config, pairs_result)
    return result


def _options_for(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """Only the options the chosen reader takes (the CLI passes every flag it has)."""
    import inspect
    accepted = set(inspect.signature(importer_class(name).__init__).parameters) - {"self", "options"}
    return {k: v for k, v in options.items() if k in accepted and v is not None}
