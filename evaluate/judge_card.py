"""Judge cards: how far a judge (an LLM through any backend, or a reward model) agrees with human labels.

Each gold item is a prompt with a human-preferred and a human-rejected answer. Which of the two is shown
as "X" (the first answer of the both-orders protocol) is decided per item by a seeded coin, so the human
labels are balanced and Cohen's kappa is defined. The LLM judge sees every item in both orders (curate.judges.judge:
structured A/B choice, verdict probability averaged over orders); a reward model scores both answers and
P(X better) = sigmoid(r_X - r_Y) (order-free by construction).

The card: agreement with humans (ties half) with a bootstrap 95% interval, Cohen's kappa (scikit-learn),
position consistency (both orders name the same answer), the judge's preference for the longer answer next
to the humans' rate, parse failures, seconds and tokens per judgement, and warnings: near chance, and
self-preference when the judge is also the model whose answers it judges.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from alignsmith.curate.core.gold_pairs import read_gold
from alignsmith.curate.core.paths import data_root as default_data_root
from alignsmith.curate.core.records import stable_hash
from alignsmith.curate.judges.hh_pairs import HH_SPLITS, hh_gold

from .stats import bootstrap_mean_ci

CHANCE_MARGIN = 0.05   # agreement whose interval reaches 0.5 + this margin is "near chance"


def parse_judge_spec(spec: str) -> dict:
    """`llm:<backend>:<model>` (backend vllm | hf | openai), `reward:<model folder>`, or `length:longer` /
    `length:shorter` (the no-model baseline every card is read against: pick the longer/shorter answer)."""
    kind, _, rest = spec.partition(":")
    if kind == "llm":
        backend, _, model = rest.partition(":")
        if backend not in ("vllm", "hf", "openai") or not model:
            raise ValueError(f"judge spec {spec!r}: use llm:<vllm|hf|openai>:<model>")
        return {"kind": "llm", "backend": backend, "model": model}
    if kind == "reward" and rest:
        return {"kind": "reward", "model": rest}
    if kind == "length" and rest in ("longer", "shorter"):
        return {"kind": "length", "model": None, "prefer": rest}
    raise ValueError(f"judge spec {spec!r} is unknown: use llm:<backend>:<model>, reward:<model folder> or "
                     "length:longer|shorter")


def _orient(items: list[dict], seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for it in items:
        human_x = bool(rng.integers(0, 2))  # True: the human-preferred answer is shown as X
        x, y = (it["better"], it["worse"]) if human_x else (it["worse"], it["better"])
        out.append({**it, "x": x, "y": y, "human_x": human_x})
    return out


def _judge_llm(spec: dict, items: list[dict], options: dict) -> tuple[list[dict], dict]:
    from alignsmith.curate.judges.judge import LLMJudge
    judge = LLMJudge(model=spec["model"], backend=spec["backend"], backend_options=options.get("backend_options"),
                     cache=options.get("cache"))
    try:
        results = judge.pairwise_choice([(it["prompt"], it["x"], it["y"]) for it in items])
    finally:
        judge.close()
    rows = [{"p_x": r["p_first"], "verdict": r["verdict"], "output_ab": r["output_ab"], "output_ba": r["output_ba"],
             "error_ab": r["error_ab"], "error_ba": r["error_ba"]} for r in results]
    cost = {"generated": judge.generated, "cache_hits": judge.cache_hits, "seconds": judge.seconds,
            "tokens": judge.tokens, "structured": judge.structured,
            "parse_failures": sum((r["error_ab"] is not None) + (r["error_ba"] is not None) for r in results),
            "judgements": 2 * len(items)}
    return rows, cost


def _judge_reward(spec: dict, items: list[dict], options: dict) -> tuple[list[dict], dict]:
    import torch
    from transformers import AutoConfig

    from alignsmith.curate.core.models import resolve_model

    from .judges import RewardModelJudge
    archs = AutoConfig.from_pretrained(resolve_model(spec["model"])).architectures or []
    # A plain causal LM gets a freshly initialised score head: seeded, so its card is reproducible.
    torch.manual_seed(int(options.get("seed", 0)))
    judge = RewardModelJudge(judge_model=spec["model"], batch_size=options.get("batch_size", 8))
    start = time.perf_counter()
    rewards = judge._rewards(spec["model"], [(it["prompt"], it["x"]) for it in items]
                             + [(it["prompt"], it["y"]) for it in items])
    seconds = time.perf_counter() - start
    n = len(items)
    rows = [{"p_x": 1.0 / (1.0 + math.exp(-(rx - ry))), "verdict": "order-free", "reward_x": rx, "reward_y": ry}
            for rx, ry in zip(rewards[:n], rewards[n:])]
    cost = {"seconds": seconds, "tokens": None, "parse_failures": 0, "judgements": 2 * n, "structured": None}
    if not any(a.endswith("ForSequenceClassification") for a in archs):
        cost["warning"] = (f"UNTRAINED REWARD HEAD: {spec['model']} is not a sequence classifier ({archs}); its "
                           "score head was initialised at random (seeded), so this card measures a baseline, not a "
                           "reward model")
    return rows, cost


def _judge_length(spec: dict, items: list[dict], options: dict) -> tuple[list[dict], dict]:
    """The answer with more (or fewer) characters wins; equal lengths are a tie. Order-free, no model."""
    sign = 1 if spec["prefer"] == "longer" else -1
    start = time.perf_counter()
    rows = [{"p_x": 0.5 + 0.5 * sign * float(np.sign(len(it["x"]) - len(it["y"]))), "verdict": "order-free"}
            for it in items]
    return rows, {"seconds": time.perf_counter() - start, "tokens": None, "parse_failures": 0,
                  "judgements": 2 * len(items), "structured": None}


def card_metrics(items: list[dict], rows: list[dict], cost: dict, *, seed: int = 0) -> dict:
    """The card's numbers from oriented gold items and the judge's per-item P(X better)."""
    from sklearn.metrics import cohen_kappa_score
    scored = [(it, r) for it, r in zip(items, rows) if r["p_x"] is not None]
    agree = [(r["p_x"] if it["human_x"] else 1.0 - r["p_x"]) for it, r in scored]
    # Hard agreement: the judge's side (ties half) against the human's.
    hard = [1.0 if (r["p_x"] > 0.5) == it["human_x"] and r["p_x"] != 0.5 else 0.5 if r["p_x"] == 0.5 else 0.0
            for it, r in scored]
    out: dict[str, Any] = {"n_items": len(items), "n_scored": len(scored)}
    if scored:
        lo, hi = bootstrap_mean_ci(hard, seed=seed)
        decided = [(it["human_x"], r["p_x"] > 0.5) for it, r in scored if r["p_x"] != 0.5]
        kappa = (float(cohen_kappa_score([h for h, _ in decided], [j for _, j in decided]))
                 if len({h for h, _ in decided}) == 2 and len({j for _, j in decided}) == 2 else 0.0)
        # Length preference counts only items whose answers differ in length (equal lengths have no longer one).
        by_length = [(it, r, len(it["x"]) > len(it["y"])) for it, r in scored if len(it["x"]) != len(it["y"])]
        judge_longer = [(r["p_x"] > 0.5) == lx for _, r, lx in by_length if r["p_x"] != 0.5]
        out.update(
            agreement=float(np.mean(hard)), agreement_ci=[lo, hi], mean_prob_on_human_choice=float(np.mean(agree)),
            cohen_kappa=kappa, ties=sum(r["p_x"] == 0.5 for _, r in scored),
            judge_prefers_longer=float(np.mean(judge_longer)) if judge_longer else None,
            humans_prefer_longer=float(np.mean([it["human_x"] == lx for it, _, lx in by_length]))
            if by_length else None)
    llm_rows = [r for r in rows if r["verdict"] not in ("order-free",)]
    parsed = [r for r in llm_rows if r["verdict"] != "unparsed"]
    out["position_consistency"] = (sum(r["verdict"] in ("first", "second") for r in parsed) / len(parsed)
                                   if parsed else None)
    n_j = max(1, cost.get("judgements") or 0)
    out.update(parse_failures=cost.get("parse_failures", 0), parse_failure_rate=cost.get("parse_failures", 0) / n_j,
               seconds_per_judgement=(cost.get("seconds") or 0.0) / n_j,
               tokens_per_judgement=(cost["tokens"] / n_j) if cost.get("tokens") else None,
               structured_output=cost.get("structured"), generated=cost.get("generated"),
               cache_hits=cost.get("cache_hits"))
    out["warnings"] = card_warnings(out)
    return out


def card_warnings(m: dict) -> list[str]:
    """Loud warnings a user must see before trusting win rates from this judge."""
    warnings = []
    ci = m.get("agreement_ci")
    if not m.get("n_scored"):
        warnings.append("NO JUDGEMENTS: the judge produced no usable verdict")
    elif ci and ci[0] <= 0.5 + CHANCE_MARGIN:
        warnings.append(f"NEAR CHANCE: agreement with humans {m['agreement']:.3f} (95% CI {ci[0]:.3f}-{ci[1]:.3f}) "
                        "is not clearly above 0.5; win rates from this judge are noise")
    if m.get("position_consistency") is not None and m["position_consistency"] < 0.5:
        warnings.append(f"POSITION BIAS: only {m['position_consistency']:.0%} of items get the same answer in both "
                        "orders")
    if m.get("parse_failure_rate", 0) > 0.05:
        warnings.append(f"PARSE FAILURES: {m['parse_failure_rate']:.0%} of replies unreadable")
    return warnings


def self_preference_warning(judge_model: str | None, candidate_models: list[str]) -> str | None:
    """A warning when the judge also produced the answers it judges (LLM judges favour their own text)."""
    if judge_model and any(c and Path(str(c)).name == Path(str(judge_model)).name for c in candidate_models):
        return (f"SELF-PREFERENCE: the judge {judge_model} also wrote answers it judges; its verdicts may favour "
                "its own style")
    return None


def judge_card(spec: str, *, gold: str | None = None, data_root: Path | None = None, per_split: int = 50,
               skip: int = 0, seed: int = 0, candidate_models: list[str] | None = None,
               options: dict | None = None) -> tuple[dict, list[dict]]:
    """Measure a judge on human-labelled pairs: (card dict, per-item rows)."""
    parsed = parse_judge_spec(spec)
    options = dict(options or {})
    if gold:
        items, source = read_gold(gold), gold
    else:
        root = data_root or default_data_root() / "hh_rlhf"
        items, source = hh_gold(Path(root), per_split=per_split, skip=skip), f"HH-RLHF test ({', '.join(HH_SPLITS)})"
    items = _orient(items, seed)
    runner = {"llm": _judge_llm, "reward": _judge_reward, "length": _judge_length}[parsed["kind"]]
    rows, cost = runner(parsed, items, {**options, "seed": seed})
    metrics = card_metrics(items, rows, cost, seed=seed)
    if cost.get("warning"):
        metrics["warnings"].append(cost["warning"])
    warn = self_preference_warning(parsed["model"], candidate_models or [])
    if warn:
        metrics["warnings"].append(warn)
    card = {"judge": spec, "judge_kind": parsed["kind"], "judge_model": parsed["model"], "gold": source,
            "gold_fingerprint": stable_hash([it["item"] for it in items], length=12), **metrics}
    item_rows = [{"item": it["item"], "human_prefers_x": it["human_x"], "len_x": len(it["x"]), "len_y": len(it["y"]),
                  **{k: v for k, v in r.items()}} for it, r in zip(items, rows)]
    return card, item_rows


def card_markdown(card: dict) -> str:
    """A short human-readable card."""
    def fmt(v, spec=".3f"):
        return "n/a" if v is None else format(v, spec)
    ci = card.get("agreement_ci") or [None, None]
    lines = [f"# Judge card: {card['judge']}", "", f"Gold: {card['gold']} ({card['n_items']} pairs, "
             f"{card['n_scored']} judged)", "",
             f"- agreement with humans: {fmt(card.get('agreement'))} (95% CI {fmt(ci[0])}-{fmt(ci[1])})",
             f"- Cohen's kappa: {fmt(card.get('cohen_kappa'))}",
             f"- position consistency (same answer in both orders): {fmt(card.get('position_consistency'))}",
             f"- prefers the longer answer: {fmt(card.get('judge_prefers_longer'))} "
             f"(humans: {fmt(card.get('humans_prefer_longer'))})",
             f"- parse failures: {card.get('parse_failures')} ({fmt(card.get('parse_failure_rate'))})",
             f"- seconds per judgement: {fmt(card.get('seconds_per_judgement'))}; tokens per judgement: "
             f"{fmt(card.get('tokens_per_judgement'), '.0f')}"]
    if card.get("warnings"):
        lines += ["", "## Warnings", ""] + [f"- **{w}**" for w in card["warnings"]]
    return "\n".join(lines) + "\n"
