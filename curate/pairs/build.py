"""Preference pairs from scored candidates: `build_pairs(candidate_rows, prompt_rows, config)`.

Candidates are scored (scorers write `scores[name]`), combined with weights, ranked per prompt; a pair
strategy proposes (chosen, rejected) pairs and the rules in `pair_rules` accept or drop each one with a
counted reason. The result carries TRL-ready DPO rows, SFT rows (best candidate per prompt), prompt rows
for PPO/GRPO, every dropped pair and candidate with its reason, and the numbers for the dataset card.
"""
from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from ..core.config import option
from ..core.errors import InputError
from ..core.records import as_messages, clean_kwargs, make_pair_row, stable_hash
from .rules import DROP_PER_PROMPT, length_balance, length_floor, pair_rule_violation
from .scoring import score_candidates
from .strategies import get_strategy


@dataclass
class PairsConfig:
    """How pairs are built. Every field has a default that runs; YAML and `--set` override them."""

    scorers: dict[str, dict] = option(
        "scorers to run: name -> constructor options (verifiers, judge, reward_model, safety); a score already "
        "on the rows is reused unless rescore is true", factory=lambda: {"verifiers": {}})
    weights: dict[str, float] = option(
        "weight of each score name in the combined score (a weighted sum); empty: each listed scorer's "
        "`weight` option, default 1", factory=dict)
    rescore: bool = option("score every row again even where it already has a finite score of that name", False)
    strategy: str = option(
        "which (chosen, rejected) pairs to propose per prompt: best_vs_worst, best_vs_random_lower or "
        "all_above_margin", "best_vs_worst")
    strategy_options: dict[str, Any] = option(
        "options of the strategy, e.g. {k: 2} for best_vs_random_lower (rejected candidates per prompt)",
        factory=dict)
    min_margin: float = option(
        "drop a pair whose combined-score margin (chosen - rejected) is below this; >= 0, in score units", 0.0)
    tie_tolerance: float = option("a |margin| at or below this is a tie; ties are always dropped", 1e-9)
    max_similarity: float | None = option(
        "drop a pair whose answers have normalised edit similarity at or above this (near-identical); in "
        "(0, 1], null turns the rule off", 0.9)
    max_pairs_per_prompt: int | None = option(
        "keep at most this many pairs per prompt, in the strategy's order; >= 1, null for no cap", 4)
    max_chosen_longer_share: float | None = option(
        "cap on the share of pairs whose chosen answer is longer (judges favour length); excess pairs go "
        "smallest margin first; in [0, 1], null for no cap", 0.6)
    min_chosen_longer_share: float | None = option(
        "floor on that share, for when the scores favour short answers (word limits); in [0, 1], at most "
        "max_chosen_longer_share, null for no floor", None)
    sft_min_score: float | None = option(
        "a prompt whose best candidate's combined score is below this gets no SFT row; null keeps every prompt",
        None)
    seed: int = option("seed of the random choices (best_vs_random_lower), drawn per prompt", 0)

    @classmethod
    def from_dict(cls, data: dict | None) -> "PairsConfig":
        """Build from a YAML mapping; unknown keys are an error that lists the known ones."""
        from ..core.config import check_fields
        config = cls(**check_fields(cls, dict(data or {}), "pairs config"))
        config.validate()
        return config

    def validate(self) -> None:
        """Check value ranges, naming the field and what is allowed."""
        if self.min_margin < 0:
            raise InputError("must be >= 0", field="min_margin")
        if self.max_similarity is not None and not 0 < self.max_similarity <= 1:
            raise InputError("must be in (0, 1] or null", field="max_similarity")
        if self.max_chosen_longer_share is not None and not 0 <= self.max_chosen_longer_share <= 1:
            raise InputError("must be in [0, 1] or null", field="max_chosen_longer_share")
        if self.min_chosen_longer_share is not None and not 0 <= self.min_chosen_longer_share <= 1:
            raise InputError("must be in [0, 1] or null", field="min_chosen_longer_share")
        if None not in (self.min_chosen_longer_share, self.max_chosen_longer_share) and \
                self.min_chosen_longer_share > self.max_chosen_longer_share:
            raise InputError("must not exceed max_chosen_longer_share", field="min_chosen_longer_share")
        if self.max_pairs_per_prompt is not None and self.max_pairs_per_prompt < 1:
            raise InputError("must be >= 1 or null", field="max_pairs_per_prompt")
        if not self.combined_weights():
            raise InputError("no scores to combine: list scorers or weights", field="scorers")

    def combined_weights(self) -> dict[str, float]:
        """The weights used for the combined score."""
        if self.weights:
            return {k: float(v) for k, v in self.weights.items()}
        return {name: float((opts or {}).get("weight", 1.0)) for name, opts in self.scorers.items()}

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PairsResult:
    """Everything `build_pairs` produced; `write_pairs_run` stores it in a run folder."""

    pairs: list[dict]
    sft: list[dict]
    prompts: list[dict]
    dropped_pairs: list[dict]       # proposals that failed a rule, with `drop_reason`
    dropped_candidates: list[dict]  # candidates that could not be ranked, with `drop_reason`
    candidates: list[dict]          # every usable candidate with its scores and combined `score`
    judgements: list[dict]          # raw judge records (prompt, order, output, parsed verdict)
    stats: dict                     # counts and rates for the dataset card
    config: PairsConfig


def build_pairs(candidate_rows: list[dict], prompt_rows: list[dict] | None = None,
                config: PairsConfig | dict | None = None, *, scorer_objects: dict | None = None) -> PairsResult:
    """Score, rank and pair candidates; see the module docstring. Input rows are not modified.

    `scorer_objects` lets a caller pass ready scorer instances (name -> Scorer) instead of options.
    """
    config = config if isinstance(config, PairsConfig) else PairsConfig.from_dict(config)
    prompts = index_prompts(candidate_rows, prompt_rows)
    rows = join_candidates(candidate_rows, prompts)
    judgements, judge_stats = score_candidates(rows, config, scorer_objects or {})
    usable, dropped_candidates = rank_ready(rows, config.combined_weights())
    by_prompt: dict[str, list[dict]] = defaultdict(list)
    for row in usable:
        by_prompt[row["prompt_id"]].append(row)
    strategy = get_strategy(config.strategy, **config.strategy_options)
    pairs, dropped_pairs, proposed = [], [], 0
    for pid, cands in by_prompt.items():
        ranked = sorted(cands, key=lambda c: (-c["score"], c["candidate_id"]))
        rng = random.Random(stable_hash([config.seed, pid]))  # per prompt: independent of input order
        proposals = strategy.propose(ranked, rng)
        proposed += len(proposals)
        kept, dropped = apply_pair_rules(prompts[pid], proposals, config)
        pairs += kept
        dropped_pairs += dropped
    pairs, length_dropped = length_balance(pairs, config.max_chosen_longer_share)
    dropped_pairs += [{**p, "drop_reason": "length_balance: chosen longer share over "
                       f"{config.max_chosen_longer_share}"} for p in length_dropped]
    pairs, floor_dropped = length_floor(pairs, config.min_chosen_longer_share)
    dropped_pairs += [{**p, "drop_reason": "length_balance: chosen longer share under "
                       f"{config.min_chosen_longer_share}"} for p in floor_dropped]
    sft = best_per_prompt(by_prompt, prompts, config.sft_min_score)
    stats = {"candidates_in": len(candidate_rows), "prompts_in": len(prompts),
             "candidates_usable": len(usable), "candidates_dropped": len(dropped_candidates),
             "pairs_proposed": proposed, "pairs_out": len(pairs), "sft_rows": len(sft), "judge": judge_stats}
    return PairsResult(pairs=pairs, sft=sft, prompts=[ppo_prompt_row(p) for p in prompts.values()],
                       dropped_pairs=dropped_pairs, dropped_candidates=dropped_candidates, candidates=usable,
                       judgements=judgements, stats=stats, config=config)


def index_prompts(candidate_rows: list[dict], prompt_rows: list[dict] | None) -> dict[str, dict]:
    """prompt_id -> prompt row, from `prompt_rows` or else from the prompt fields joined onto candidates."""
    source = prompt_rows if prompt_rows else candidate_rows
    where = "prompt rows" if prompt_rows else "candidate rows"
    prompts: dict[str, dict] = {}
    for i, row in enumerate(source, 1):
        pid = row.get("prompt_id")
        if not pid:
            raise InputError("missing", path=where, line=i, field="prompt_id")
        if pid in prompts:
            continue
        if row.get("prompt") is None:
            raise InputError(f"prompt {pid} has no prompt text", path=where, line=i, field="prompt")
        prompts[pid] = {"prompt_id": pid, "prompt": as_messages(row["prompt"]),
                        "instruction_id_list": list(row.get("instruction_id_list") or []),
                        "kwargs": [clean_kwargs(k) for k in row.get("kwargs") or []],
                        "category": row.get("category") or "",
                        "source": row.get("source") or ""}
    return prompts


def join_candidates(candidate_rows: list[dict], prompts: dict[str, dict]) -> list[dict]:
    """Copies of the candidate rows with their prompt's fields, checking the required columns."""
    rows = []
    for i, row in enumerate(candidate_rows, 1):
        for name in ("prompt_id", "candidate_id", "response"):
            if row.get(name) is None:
                raise InputError("missing", path="candidate rows", line=i, field=name)
        if row["prompt_id"] not in prompts:
            raise InputError(f"prompt {row['prompt_id']} is not among the prompt rows", path="candidate rows",
                             line=i, field="prompt_id")
        # The prompt row's fields win: they are cleaned (kwargs without Arrow's None fill-ins).
        joined = {**row, **prompts[row["prompt_id"]]}
        joined["scores"] = dict(row.get("scores") or {})
        rows.append(joined)
    return rows


def rank_ready(rows: list[dict], weights: dict[str, float]) -> tuple[list[dict], list[dict]]:
    """Split candidates into (usable with a finite combined `score`, dropped with `drop_reason`)."""
    usable, dropped = [], []
    for row in rows:
        missing = [n for n in weights if not _finite(row["scores"].get(n))]
        if not str(row["response"]).strip():
            dropped.append({**row, "drop_reason": "pairs: empty response"})
        elif missing:
            why = ", ".join(f"{n}={row['scores'].get(n)!r}" for n in missing)
            dropped.append({**row, "drop_reason": f"pairs: no usable score ({why}); judge parse "
                            "failures and unscored rows are left out, not guessed"})
        else:
            usable.append({**row, "score": sum(w * float(row["scores"][n]) for n, w in weights.items())})
    return usable, dropped


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def apply_pair_rules(prompt: dict, proposals: list[tuple[dict, dict]],
                     config: PairsConfig) -> tuple[list[dict], list[dict]]:
    """Pass one prompt's proposals through the per-pair rules and the per-prompt cap."""
    kept, dropped = [], []
    for chosen, rejected in proposals:
        rule, detail, similarity = pair_rule_violation(
            chosen, rejected, tie_tolerance=config.tie_tolerance, min_margin=config.min_margin,
            max_similarity=config.max_similarity)
        pair = pair_row(prompt, chosen, rejected, config.strategy, similarity)
        if rule is None and config.max_pairs_per_prompt is not None and len(kept) >= config.max_pairs_per_prompt:
            rule, detail = DROP_PER_PROMPT, f"prompt already has {config.max_pairs_per_prompt} pairs"
        if rule is None:
            kept.append(pair)
        else:
            dropped.append({**pair, "drop_reason": f"{rule}: {detail}"})
    return kept, dropped


def pair_row(prompt: dict, chosen: dict, rejected: dict, strategy: str, similarity: float | None) -> dict:
    """A TRL conversational DPO row with provenance (ids, per-scorer and combined scores, margin)."""
    row = make_pair_row(prompt["prompt"], chosen, rejected, strategy=strategy)
    row.update({"chosen_scores": dict(chosen["scores"]), "rejected_scores": dict(rejected["scores"]),
                "similarity": similarity, "category": prompt.get("category") or "",
                "chosen_chars": len(chosen["response"]), "rejected_chars": len(rejected["response"])})
    return row


def best_per_prompt(by_prompt: dict[str, list[dict]], prompts: dict[str, dict],
                    min_score: float | None) -> list[dict]:
    """SFT rows (`prompt`/`completion`, conversational): each prompt's best candidate."""
    rows = []
    for pid, cands in by_prompt.items():
        best = min(cands, key=lambda c: (-c["score"], c["candidate_id"]))
        if min_score is not None and best["score"] < min_score:
            continue
        rows.append({"prompt": prompts[pid]["prompt"],
                     "completion": [{"role": "assistant", "content": best["response"]}],
                     "prompt_id": pid, "candidate_id": best["candidate_id"], "score": best["score"],
                     "category": prompts[pid].get("category") or ""})
    return rows


def ppo_prompt_row(prompt: dict) -> dict:
    """A prompt row for PPO/GRPO: `prompt` plus the constraints a verifier reward needs."""
    return {"prompt": prompt["prompt"], "prompt_id": prompt["prompt_id"],
            "instruction_id_list": prompt["instruction_id_list"], "kwargs": prompt["kwargs"],
            "category": prompt["category"]}
