"""Judges page: every judge card (`alignsmith judge card` run folders) — how far each judge agrees with
human labels, its position bias, length preference, parse failures and cost — with the cards' warnings
shown loudly, so nobody reads win rates from a judge at chance without being told."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from alignsmith.dashboards.store import RunReadError, finished, read_json
from alignsmith.dashboards.widgets import current_runs, fmt, interval_text, show_problems, text_table

CARD_KIND = "judge_card"


def card_rows(cards: list[tuple[str, dict]]) -> pd.DataFrame:
    """One table row per card: the headline numbers as display text."""
    rows = []
    for label, c in cards:
        ci = c.get("agreement_ci") or [None, None]
        rows.append({"judge": str(c.get("judge")), "gold": str(c.get("gold")), "pairs": c.get("n_scored"),
                     "agreement [95% CI]": interval_text(c.get("agreement"), ci[0], ci[1]),
                     "Cohen's kappa": fmt(c.get("cohen_kappa")),
                     "position consistency": fmt(c.get("position_consistency")),
                     "prefers longer (humans)": f"{fmt(c.get('judge_prefers_longer'))} "
                                                f"({fmt(c.get('humans_prefer_longer'))})",
                     "parse failures": fmt(c.get("parse_failure_rate")),
                     "s / judgement": fmt(c.get("seconds_per_judgement")),
                     "warnings": len(c.get("warnings") or []), "run": label})
    return pd.DataFrame(rows)


def load_cards(runs) -> tuple[list[tuple[str, dict]], list]:
    """(run label, card dict) for every finished judge-card run, and problems for unreadable ones."""
    from alignsmith.dashboards.store import Problem
    cards, problems = [], []
    for run in finished(runs, CARD_KIND):
        try:
            card = read_json(run.file("card.json"))
        except (RunReadError, OSError) as err:
            problems.append(Problem(run.label, str(err)))
            continue
        if not isinstance(card, dict):
            problems.append(Problem(run.label, "card.json is not an object"))
            continue
        cards.append((run.label, card))
    return cards, problems


def render() -> None:
    st.title("Judges")
    _, runs, problems = current_runs()
    cards, card_problems = load_cards(runs)
    show_problems([p for p in problems if p.where.startswith(CARD_KIND)] + card_problems)
    if not cards:
        st.info("No judge cards yet. Measure a judge against human labels with "
                "`alignsmith judge card --judge llm:vllm:<model>` (or `reward:<folder>`).")
        return
    st.caption("Agreement with human preference labels (ties half) with a bootstrap 95% interval; position "
               "consistency = the same answer chosen in both orders; a judge whose interval reaches 0.55 is "
               "flagged near chance.")
    text_table(card_rows(cards), key="judge-cards")
    for label, card in cards:
        for warning in card.get("warnings") or []:
            st.error(f"{card.get('judge')}: {warning}")


if __name__ == "__main__":
    render()
