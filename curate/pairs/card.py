"""The pairs dataset card: counts through each stage and the biases to check before training.

`card_data(result)` is the machine-readable `card.json`; `card_markdown(card)` renders `card.md`.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from ..core.funnel import funnel_from_counts
from .rules import chosen_is_longer, similarity_backend


def _rule(reason: str) -> str:
    return reason.split(":", 1)[0].strip()


def card_data(result: Any) -> dict:
    """Every number the card shows, from a `PairsResult`."""
    pairs = result.pairs
    stats = result.stats
    per_prompt = Counter(p["prompt_id"] for p in pairs)
    pairs_per_prompt = Counter(per_prompt.get(pid, 0) for pid in (r["prompt_id"] for r in result.prompts))
    longer = sum(chosen_is_longer(p) for p in pairs)
    # Candidate reasons carry details in parentheses; the card groups by the reason before them.
    candidate_reasons = Counter(r["drop_reason"].split(" (")[0].split(";")[0] for r in result.dropped_candidates)
    return {
        "stages": {
            "candidates_in": stats["candidates_in"], "prompts_in": stats["prompts_in"],
            "candidates_usable": stats["candidates_usable"],
            "pairs_proposed": stats["pairs_proposed"],
            "pairs_out": len(pairs), "sft_rows": len(result.sft), "ppo_prompts": len(result.prompts),
        },
        # Drops by reason, as funnels (core.funnel): candidates_in -> usable, pairs_proposed -> pairs_out.
        "candidates_funnel": funnel_from_counts(stats["candidates_in"], candidate_reasons, "reason"),
        "pairs_funnel": funnel_from_counts(stats["pairs_proposed"],
                                           Counter(_rule(r["drop_reason"]) for r in result.dropped_pairs), "rule"),
        "pairs_per_prompt": {str(k): v for k, v in sorted(pairs_per_prompt.items())},
        "margin_histogram": margin_histogram([p["margin"] for p in pairs]),
        "chosen_longer_share": longer / len(pairs) if pairs else None,
        "chosen_longer_cap": result.config.max_chosen_longer_share,
        "judge": judge_summary(stats.get("judge") or {}),
        "per_category": per_category(result),
        "similarity": similarity_backend(),
        "config": result.config.to_dict(),
    }


def margin_histogram(margins: list[float], bins: int = 10) -> list[dict]:
    """Equal-width bins over the observed margins: [{low, high, count}]."""
    if not margins:
        return []
    import numpy as np
    counts, edges = np.histogram(np.asarray(margins, dtype=float), bins=bins)
    return [{"low": float(edges[i]), "high": float(edges[i + 1]), "count": int(c)} for i, c in enumerate(counts)]


def judge_summary(judge_stats: dict) -> dict:
    """Per judge scorer: comparisons, both-orders agreement rate and parse failures."""
    out = {}
    for name, s in judge_stats.items():
        out[name] = dict(s)
    return out


def per_category(result: Any) -> dict:
    """Prompts, pairs and SFT rows per prompt category ('' shown as 'uncategorised')."""
    table: dict[str, dict[str, int]] = {}

    def bump(cat: str, key: str) -> None:
        row = table.setdefault(cat or "uncategorised", {"prompts": 0, "pairs": 0, "sft": 0})
        row[key] += 1

    for p in result.prompts:
        bump(p.get("category", ""), "prompts")
    for p in result.pairs:
        bump(p.get("category", ""), "pairs")
    for r in result.sft:
        bump(r.get("category", ""), "sft")
    return dict(sorted(table.items()))


def _fmt(x: Any) -> str:
    if x is None:
        return "n/a"
    return f"{x:.3f}" if isinstance(x, float) else str(x)


def card_markdown(card: dict) -> str:
    """Render card.json as a short Markdown dataset card."""
    s = card["stages"]
    lines = ["# Preference pairs dataset card", "",
             "Files: `dpo.parquet` (prompt/chosen/rejected, conversational), `sft.parquet` (prompt/completion), "
             "`prompts.parquet` (PPO/GRPO prompts), `dropped_pairs.parquet` and `dropped_candidates.parquet` "
             "(every drop with its reason). Load with `datasets.load_dataset(\"parquet\", data_files=...)`.", "",
             "## Counts through each stage", "", "| stage | count |", "|---|---|"]
    for key in ("prompts_in", "candidates_in", "candidates_usable", "pairs_proposed", "pairs_out",
                "sft_rows", "ppo_prompts"):
        lines.append(f"| {key} | {s[key]} |")
    for title, funnel in (("Candidates dropped", card["candidates_funnel"]), ("Pairs dropped", card["pairs_funnel"])):
        lines += ["", f"### {title} (by reason)", ""]
        lines += [f"- {e['step']}: {e['dropped']}" for e in sorted(funnel, key=lambda e: e["step"])] or ["- none"]
    lines += ["", "## Pairs per prompt", "", "| pairs | prompts |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in card["pairs_per_prompt"].items()]
    lines += ["", "## Margin histogram", "", "| margin from | to | pairs |", "|---|---|---|"]
    lines += [f"| {b['low']:.3f} | {b['high']:.3f} | {b['count']} |" for b in card["margin_histogram"]]
    lines += ["", "## Length bias", "",
              f"Share of pairs where chosen is longer (characters): {_fmt(card['chosen_longer_share'])} "
              f"(cap {_fmt(card['chosen_longer_cap'])}).", "", "## Judge", ""]
    if card["judge"]:
        for name, j in card["judge"].items():
            lines.append(f"- {name}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in j.items()))
    else:
        lines.append("- no LLM judge ran in this build")
    lines += ["", "## Per category", "", "| category | prompts | pairs | sft |", "|---|---|---|---|"]
    lines += [f"| {c} | {v['prompts']} | {v['pairs']} | {v['sft']} |" for c, v in card["per_category"].items()]
    lines += ["", f"Near-identical check: {card['similarity']}.", "", "## Config", "", "```json"]
    import json
    lines += [json.dumps(card["config"], indent=2, default=str), "```", ""]
    return "\n".join(lines)
