"""Rules every proposed pair passes through; each drop names its rule so the card can count it.

Order: tie → minimum margin → near-identical → per-prompt cap (per prompt), then the dataset-wide
length-balance cap. Ties are checked before the margin so a zero-margin pair is reported as a tie.
"""
from __future__ import annotations

import difflib
import math

from ..core.records import normalise_text

DROP_TIE = "tie"
DROP_MARGIN = "min_margin"
DROP_NEAR_IDENTICAL = "near_identical"
DROP_PER_PROMPT = "max_pairs_per_prompt"
DROP_LENGTH = "length_balance"


def edit_similarity(a: str, b: str) -> float:
    """Normalised edit similarity in [0, 1] of the two texts after `normalise_text` (1 = identical).

    Uses rapidfuzz's Indel ratio when installed (fast C implementation); otherwise difflib's
    SequenceMatcher, which computes the same 2·matches/total form with a heuristic matcher.
    """
    a, b = normalise_text(a), normalise_text(b)
    if a == b:
        return 1.0
    try:
        from rapidfuzz import fuzz
    except ImportError:
        # autojunk=False: the junk heuristic would treat frequent characters as noise in long answers.
        return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    return fuzz.ratio(a, b) / 100.0


def similarity_backend() -> str:
    """Which implementation `edit_similarity` uses here (recorded in the dataset card)."""
    try:
        import rapidfuzz  # noqa: F401
    except ImportError:
        return "difflib.SequenceMatcher"
    return "rapidfuzz.fuzz.ratio"


def pair_rule_violation(chosen: dict, rejected: dict, *, tie_tolerance: float, min_margin: float,
                        max_similarity: float | None) -> tuple[str | None, str, float | None]:
    """(rule name or None, human detail, similarity) for one proposed pair, checking the per-pair rules."""
    margin = chosen["score"] - rejected["score"]
    if abs(margin) <= tie_tolerance:
        return DROP_TIE, f"scores equal ({chosen['score']:.4g})", None
    if margin < min_margin:
        return DROP_MARGIN, f"margin {margin:.4g} < {min_margin:.4g}", None
    similarity = edit_similarity(chosen["response"], rejected["response"])
    if max_similarity is not None and similarity >= max_similarity:
        return DROP_NEAR_IDENTICAL, f"similarity {similarity:.3f} >= {max_similarity:.3f}", similarity
    return None, "", similarity


def chosen_is_longer(pair: dict) -> bool:
    """Whether the chosen answer has more characters than the rejected one (equal length is not longer)."""
    return len(pair["chosen"][-1]["content"]) > len(pair["rejected"][-1]["content"])


def length_balance(pairs: list[dict], max_share: float | None) -> tuple[list[dict], list[dict]]:
    """Keep at most `max_share` of pairs with a longer chosen answer; return (kept, dropped).

    Judges and reward models favour length, so a dataset where chosen is usually longer teaches length.
    Chosen-longer pairs are dropped smallest margin first (the least certain preferences go first),
    then largest length ratio first; kept pairs stay in input order.
    """
    if max_share is None or not pairs:
        return list(pairs), []
    longer = [i for i, p in enumerate(pairs) if chosen_is_longer(p)]
    shorter_or_equal = len(pairs) - len(longer)
    if max_share >= 1.0:
        return list(pairs), []
    # Largest L with L / (L + S) <= max_share.
    allowed = math.floor(max_share * shorter_or_equal / (1.0 - max_share) + 1e-9)
    excess = len(longer) - allowed
    if excess <= 0:
        return list(pairs), []

    def drop_order(i: int) -> tuple:
        p = pairs[i]
        ratio = len(p["chosen"][-1]["content"]) / max(1, len(p["rejected"][-1]["content"]))
        return (p["margin"], -ratio, p["chosen_id"], p["rejected_id"])

    to_drop = set(sorted(longer, key=drop_order)[:excess])
    kept = [p for i, p in enumerate(pairs) if i not in to_drop]
    dropped = [p for i, p in enumerate(pairs) if i in to_drop]
    return kept, dropped


def length_floor(pairs: list[dict], min_share: float | None) -> tuple[list[dict], list[dict]]:
    """Keep at least `min_share` of pairs with a longer chosen answer; return (kept, dropped).

    The mirror of `length_balance`: when the verifiers mostly reward shorter answers (word limits), a
    dataset where chosen is usually shorter teaches brevity instead of the constraints. Chosen-not-longer
    pairs are dropped smallest margin first, then largest shortening first; kept pairs stay in input order.
    """
    if min_share is None or min_share <= 0 or not pairs:
        return list(pairs), []
    longer = sum(1 for p in pairs if chosen_is_longer(p))
    others = [i for i, p in enumerate(pairs) if not chosen_is_longer(p)]
    # Largest S with L / (L + S) >= min_share (S = 0 when no pair has a longer chosen answer).
    allowed = math.floor(longer * (1.0 - min_share) / min_share + 1e-9) if min_share < 1 else 0
    excess = len(others) - allowed
    if excess <= 0:
        return list(pairs), []

    def drop_order(i: int) -> tuple:
        p = pairs[i]
        ratio = len(p["rejected"][-1]["content"]) / max(1, len(p["chosen"][-1]["content"]))
        return (p["margin"], -ratio, p["chosen_id"], p["rejected_id"])

    to_drop = set(sorted(others, key=drop_order)[:excess])
    return ([p for i, p in enumerate(pairs) if i not in to_drop], [p for i, p in enumerate(pairs) if i in to_drop])
