"""Decontamination: drop training prompts that overlap the prompts we evaluate on.

Two tests, either one drops a row: a shared word 13-gram (the GPT-3 paper's contamination test; eval
prompts shorter than 13 words count when the training text contains them whole), and MinHash
near-duplication against the eval prompts. By default the eval sets are the suite's own: IFEval, XSTest,
AlpacaEval, HarmBench (from `$ALIGNSMITH_DATA` or `../shared/data`) and the built-in held-out demo
prompts; users add their own with `extra: [{path, field, id_field, name}]`. A dropped row says which eval
set and item it matched (`eval_set`, `eval_item`, `match`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from ..core.datafiles import read_rows
from ..core.paths import data_dir
from ..core.quarantine import text_of, text_problem
from ..core.records import EvalItem, as_messages, prompt_text
from .base import FILTERS, Filter, Rejection

# name: (file under the data folder, text column, id column)
EVAL_SET_FILES = {
    "ifeval": ("ifeval/input_data.jsonl", "prompt", "key"),
    "xstest": ("xstest/xstest_prompts.csv", "prompt", "id"),
    "alpaca_eval": ("alpaca_eval/alpaca_eval_805_prompts.jsonl", "instruction", "idx"),
    "harmbench": ("harmbench/harmbench_behaviors_text_all.csv", "Behavior", "BehaviorID"),
}
DEFAULT_EVAL_SETS = (*EVAL_SET_FILES, "demo_eval")


def load_eval_sets(names: Sequence[str] | None = None, data: str | os.PathLike | None = None,
                   extra: Sequence[dict] = ()) -> tuple[list[EvalItem], list[str]]:
    """(eval items, names of default sets whose files were not found). A set named explicitly must exist."""
    explicit = names is not None
    names = list(DEFAULT_EVAL_SETS if names is None else names)
    root = data_dir(data)
    items: list[EvalItem] = []
    missing: list[str] = []
    for name in names:
        if name == "demo_eval":
            from ..generate.demo_prompts import load_demo_prompts
            items += [EvalItem(r["prompt_id"], as_messages(r["prompt"]), subset="demo_eval")
                      for r in load_demo_prompts("eval")]
            continue
        if name not in EVAL_SET_FILES:
            raise ValueError(f"unknown eval set {name!r}; known: {', '.join(DEFAULT_EVAL_SETS)} "
                             "(add others with extra: [{path, field}])")
        rel, field, id_field = EVAL_SET_FILES[name]
        if root is None or not (root / rel).exists():
            if explicit:
                raise FileNotFoundError(f"eval set {name}: {rel} not found under {root or '$ALIGNSMITH_DATA'}")
            missing.append(name)
            continue
        items += _items_from(root / rel, name, field, id_field)
    for spec in extra:
        path = spec["path"]
        items += _items_from(Path(path), spec.get("name", Path(path).stem), spec.get("field", "prompt"),
                             spec.get("id_field", "id"))
    return items, missing


def _items_from(path: Path, name: str, field: str, id_field: str) -> list[EvalItem]:
    found = []
    for i, row in enumerate(read_rows(path)):
        text = text_of(row.get(field))
        if text:
            found.append(EvalItem(str(row.get(id_field, i)), as_messages(text), subset=name))
    return found


def _words(text: str) -> list[str]:
    from ..dedup.minhash import normalise_for_shingles
    return normalise_for_shingles(text).split()


class NgramIndex:
    """Word n-grams of eval prompts → the first eval item holding them; shorter prompts kept whole."""

    def __init__(self, items: Sequence[EvalItem], n: int = 13, min_short_words: int = 4):
        self.n = n
        self.by_length: dict[int, dict[str, EvalItem]] = {}
        for item in items:
            words = _words(prompt_text(item.prompt))
            if len(words) >= n:
                grams = {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}
                length = n
            elif len(words) >= min_short_words:
                grams, length = {" ".join(words)}, len(words)
            else:
                continue  # a two-word eval prompt would match half the training set
            table = self.by_length.setdefault(length, {})
            for g in grams:
                table.setdefault(g, item)

    def match(self, text: str) -> tuple[EvalItem, str] | None:
        """The first eval item sharing an n-gram (or contained whole) with `text`, and the shared words."""
        words = _words(text)
        for length, table in sorted(self.by_length.items(), reverse=True):
            for i in range(len(words) - length + 1):
                gram = " ".join(words[i:i + length])
                if gram in table:
                    return table[gram], gram
        return None


@FILTERS.register("decontam")
class Decontaminate(Filter):
    """Drops rows whose `field` (default: the prompt) overlaps an eval prompt (n-gram or near-duplicate)."""

    name = "decontam"
    whole_dataset = False

    def __init__(self, field: str = "prompt", ngram: int = 13, sets: list[str] | None = None,
                 extra: list[dict] | None = None, data: str | None = None, near_dup: bool = True,
                 near_dup_threshold: float = 0.5, min_short_words: int = 4, **options: Any):
        super().__init__(field=field, ngram=ngram, sets=sets, extra=extra, data=data, near_dup=near_dup,
                         near_dup_threshold=near_dup_threshold, min_short_words=min_short_words, **options)
        self.field, self.near_dup, self.threshold = field, near_dup, near_dup_threshold
        self.items, self.missing_sets = load_eval_sets(sets, data, extra or [])
        self.index = NgramIndex(self.items, ngram, min_short_words)
        self.ngram = ngram

    def reject(self, row: dict) -> str | None:
        return self.reject_batch([row])[0]

    def reject_batch(self, rows: list[dict]) -> list[str | None]:
        reasons: list[str | None] = [None] * len(rows)
        texts = {}
        for i, r in enumerate(rows):
            if text_problem(r, self.field) is None:
                texts[i] = text_of(r[self.field])
        for i, text in texts.items():
            hit = self.index.match(text)
            if hit:
                item, gram = hit
                kind = f"{self.ngram}-gram" if len(gram.split()) == self.ngram else "contains eval prompt"
                reasons[i] = Rejection(f"{kind} overlap with {item.subset} item {item.item_id!r} ('{gram[:80]}')",
                                       eval_set=item.subset, eval_item=item.item_id, match=kind)
        if self.near_dup:
            self._near_duplicates({i: t for i, t in texts.items() if reasons[i] is None}, reasons)
        return reasons

    def _near_duplicates(self, texts: dict[int, str], reasons: list) -> None:
        from ..dedup.minhash import MinHashConfig, near_duplicate_pairs
        if not texts or not self.items:
            return
        order = list(texts)
        pairs, sims, _ = near_duplicate_pairs([prompt_text(it.prompt) for it in self.items] + [texts[i] for i in order],
                                              MinHashConfig(threshold=self.threshold))
        n_ref = len(self.items)
        for (a, b), sim in zip(pairs, sims):
            if a < n_ref <= b and reasons[order[b - n_ref]] is None:
                item = self.items[a]
                reasons[order[b - n_ref]] = Rejection(
                    f"near-duplicate (MinHash Jaccard ~{sim:.2f}) of {item.subset} item {item.item_id!r}",
                    eval_set=item.subset, eval_item=item.item_id, match="near-duplicate")


def decontaminate(rows: Sequence[dict], **options: Any) -> tuple[list[dict], list[dict]]:
    """(kept, dropped) rows; options as for the `decontam` filter (field, ngram, sets, extra, ...)."""
    f = Decontaminate(**options)
    kept, dropped = [], []
    for row, reason in zip(rows, f.reject_batch(list(rows))):
        if reason is None:
            kept.append(row)
        else:
            dropped.append({**row, **reason.fields, "drop_reason": f"decontam: {reason}"})
    return kept, dropped
