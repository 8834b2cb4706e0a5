"""File-level detection: read rows, check the text fields, score in batches, write one line per row."""
from __future__ import annotations

import math
from pathlib import Path

from ..core.datafiles import iter_rows, write_jsonl
from ..core.errors import InputError


def read_texts(path: str | Path, text_field: str, extra_field: str | None = None
               ) -> tuple[list[int], list[str], list[str] | None]:
    """(line numbers, texts, optional second texts); a missing or non-string field raises InputError."""
    path = Path(path)
    lines, texts, extras = [], [], []
    for line, row in _rows(path):
        for name, bucket in ((text_field, texts), (extra_field, extras)):
            if name is None:
                continue
            if name not in row:
                raise InputError(f"missing (columns here: {', '.join(map(str, row))})", path=str(path),
                                 line=line, field=name)
            value = row[name]
            if not isinstance(value, str):
                raise InputError(f"is {type(value).__name__}, expected a string", path=str(path), line=line,
                                 field=name)
            bucket.append(value)
        lines.append(line)
    return lines, texts, (extras if extra_field else None)


def _rows(path: Path):
    # CSV cells are read as text: a cell "42" is a string to classify, not a number to reject.
    if path.suffix == ".csv" and path.exists():
        from ..core.datafiles import iter_csv
        from ..core.run_state import require_finished
        require_finished(path)
        yield from iter_csv(path, cells_as_text=True)
    else:
        yield from iter_rows(path)


def _score_record(score: float) -> float | None:
    return None if math.isnan(score) else round(float(score), 6)


def detect_refusals(input_path: str | Path, text_field: str, out: str | Path, *, prompt_field: str | None = None,
                    detector=None) -> int:
    """Write {"line", "refusal", "score"} per input row, in order, to `out` (JSONL); returns the row count."""
    lines, responses, prompts = read_texts(input_path, text_field, prompt_field)
    if detector is None:
        from .refusal import RefusalDetector
        detector = RefusalDetector()
    scores = detector.score(responses, prompts)
    threshold = getattr(detector, "threshold", 0.5)
    rows = [{"line": ln, "refusal": (not math.isnan(s)) and s >= threshold, "score": _score_record(s)}
            for ln, s in zip(lines, scores)]
    write_jsonl(out, rows)
    return len(rows)


def detect_harmful_prompts(input_path: str | Path, text_field: str, out: str | Path, *, classifier=None) -> int:
    """Write {"line", "harmful", "score"} per input row, in order, to `out` (JSONL); returns the row count."""
    lines, prompts, _ = read_texts(input_path, text_field)
    if classifier is None:
        from .harmful import HarmfulPromptClassifier
        classifier = HarmfulPromptClassifier()
    scores = classifier.score(prompts)
    threshold = getattr(classifier, "threshold", 0.5)
    rows = [{"line": ln, "harmful": (not math.isnan(s)) and s >= threshold, "score": _score_record(s)}
            for ln, s in zip(lines, scores)]
    write_jsonl(out, rows)
    return len(rows)
