"""AlpacaEval's length-controlled win rate (Dubois et al. 2024, "Length-Controlled AlpacaEval").

The judge's preference for the model over the baseline on instruction i is modelled as

    logit P(model wins i) = theta_model + phi * difficulty_i + psi * tanh(delta_len_i / sd)

where delta_len is (baseline length - model length) in characters and sd its standard deviation over the
model's items. The length-controlled win rate is the mean predicted preference with the length term set to
zero: what the judge would say if both answers were equally long.

How the pieces are estimated (after reading alpaca_eval's `metrics/glm_winrate.py` and its
`notebooks/instruction_difficulty.ipynb`; the code here is our own):
- `difficulty_i` comes from one joint fit over every model given: a bias and a length slope per model plus
  one effect per instruction. AlpacaEval ships a difficulty table precomputed this way on its leaderboard
  models; we fit it on whatever the user gives, so at least two models are needed (with one model the
  instruction effects would soak up the model's own outcomes), otherwise the term is left out.
- Regularisation so a model cannot gain by length alone: AlpacaEval adds, at weight 0.2, judgements of the
  baseline itself prompted to be concise or verbose, with no model bias, which pins the length slope to
  the judge's pure reaction to length. Those judgements are not public outside its hub, so we generalise the
  idea to any *length variants* among the models given (`X`, `X_concise`, `X_verbose`: the same model at a
  different length): a family shares one bias, so only the length term may explain its differences. These
  rows enter every model's fit at a total weight of `reg_lambda` times the model's own rows. Without
  variants in the input the fit runs unregularised and says so in its notes. Given a *length reference*
  (the baseline's own concise/verbose judgements: upstream's df_gamed, or rebuilt from an alpaca_eval
  checkout; lc_reference.py) the fit uses those rows instead, as AlpacaEval does; with a fixed difficulty
  table as well, a model's LC no longer depends on the other models given (docs/benchmarks.md).
- Fits are scikit-learn logistic regressions on fractional targets (each item is a "win" row weighted by
  its preference and a "loss" row weighted by one minus it), without intercept. AlpacaEval uses an L1
  penalty chosen by cross-validation; we use a fixed mild L2 penalty (smooth and deterministic), chosen on
  the 20 development models of `leaderboard_dev.csv` (see docs/benchmarks.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from alignsmith.curate.core.errors import InputError

from .lc_reference import resolve_preferences
from .lc_settings import LCSettings

# Columns of the preference table every function here reads.
TABLE_COLUMNS = ("model", "instruction", "preference", "len_model", "len_baseline")
_VARIANT = re.compile(r"_(concise|verbose)$")


@dataclass
class LCResult:
    """One model's raw and length-controlled win rates, as fractions in [0, 1]."""

    model: str
    n: int
    win_rate: float
    lc_win_rate: float
    lc_ci_low: float
    lc_ci_high: float
    coefficients: dict = field(default_factory=dict)


def length_family(model: str) -> str:
    """The model a length variant belongs to: `gpt-3.5-turbo-1106_concise` → `gpt-3.5-turbo-1106`."""
    return _VARIANT.sub("", model)


def length_feature(len_model: np.ndarray, len_baseline: np.ndarray) -> np.ndarray:
    """tanh of the baseline-minus-model length difference over its standard deviation (0 when constant)."""
    delta = np.asarray(len_baseline, float) - np.asarray(len_model, float)
    sd = delta.std(ddof=1) if delta.size > 1 else 0.0
    return np.tanh(delta / sd) if sd > 0 else np.zeros_like(delta)


def _fit_fractional(x, p: np.ndarray, weight: np.ndarray, c: float) -> np.ndarray:
    """L2-penalised logistic regression on targets in [0, 1], no intercept (scikit-learn); coefficients.

    Minimises sum_i w_i * logloss(p_i, sigmoid(x_i b)) + |b|^2 / (2c), scikit-learn's objective divided by c.
    """
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    n = x.shape[0]
    stacked = sp.vstack([x, x]).tocsr() if sp.issparse(x) else np.vstack([x, x])
    y = np.r_[np.ones(n), np.zeros(n)]
    w = np.r_[p * weight, (1.0 - p) * weight]
    keep = w > 0
    model = LogisticRegression(C=c, fit_intercept=False, solver="lbfgs", max_iter=5000, tol=1e-8)
    model.fit(stacked[keep], y[keep], sample_weight=w[keep])
    return model.coef_[0]


def _fit_small(x: np.ndarray, p: np.ndarray, weight: np.ndarray, c: float, iters: int = 50) -> np.ndarray:
    """The same objective as `_fit_fractional`, by Newton's method, for a handful of dense columns.

    Hand-written because the bootstrap refits each model hundreds of times: scikit-learn's lbfgs takes
    ~0.3 s per fit here while Newton on <= ~10 parameters converges in a few milliseconds. The penalty
    keeps the Hessian positive definite, so the steps are well defined even when one class is absent.
    A test checks it against `_fit_fractional`.
    """
    beta = np.zeros(x.shape[1])
    ridge = np.eye(x.shape[1]) / c
    for _ in range(iters):
        prob = 1.0 / (1.0 + np.exp(-(x @ beta)))
        grad = x.T @ (weight * (prob - p)) + beta / c
        hess = (x * (weight * prob * (1.0 - prob))[:, None]).T @ x + ridge
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def with_length_feature(table: pd.DataFrame) -> pd.DataFrame:
    """The table plus `tanh_len`, standardised within each model."""
    out = table.copy()
    out["tanh_len"] = 0.0
    for _, rows in out.groupby("model", sort=False):
        out.loc[rows.index, "tanh_len"] = length_feature(rows["len_model"].to_numpy(),
                                                         rows["len_baseline"].to_numpy())
    return out


def instruction_difficulty(table: pd.DataFrame, *, c: float = 10.0) -> pd.Series | None:
    """Per-instruction effect from the joint fit over all models (None with fewer than two models)."""
    import scipy.sparse as sp
    models = sorted(table["model"].unique())
    prefs = table["preference"].to_numpy(float)
    if len(models) < 2 or (prefs == prefs[0]).all() and prefs[0] in (0.0, 1.0):
        return None  # one model, or every item won (lost) outright: nothing to separate instructions by
    instructions = sorted(table["instruction"].unique(), key=str)
    m_idx = table["model"].map({m: i for i, m in enumerate(models)}).to_numpy()
    i_idx = table["instruction"].map({k: i for i, k in enumerate(instructions)}).to_numpy()
    rows, n, k = np.arange(len(table)), len(table), len(models)
    bias = sp.csr_matrix((np.ones(n), (rows, m_idx)), shape=(n, k))
    slope = sp.csr_matrix((table["tanh_len"].to_numpy(float), (rows, m_idx)), shape=(n, k))
    # The first instruction is the reference level (effect 0), as in dummy coding.
    effect = sp.csr_matrix((np.ones(n), (rows, i_idx)), shape=(n, len(instructions)))[:, 1:]
    x = sp.hstack([bias, slope, effect]).tocsr()
    coef = _fit_fractional(x, table["preference"].to_numpy(float), np.ones(n), c)
    return pd.Series(np.r_[0.0, coef[2 * k:]], index=instructions, name="difficulty")


def _variant_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of every length family with at least two members among the models given."""
    families = table["model"].map(length_family)
    sizes = table.groupby(families)["model"].nunique()
    keep = families.map(sizes) >= 2
    return table[keep.to_numpy()].assign(family=families[keep.to_numpy()])


def _design(rows: pd.DataFrame, own: np.ndarray, family_cols: dict[str, int], width: int) -> np.ndarray:
    x = np.zeros((len(rows), width))
    x[:, 0] = rows["tanh_len"].to_numpy(float)
    x[:, 1] = rows["d"].to_numpy(float)
    x[own, 2] = 1.0
    for j, fam in enumerate(rows["family"].to_numpy() if "family" in rows else []):
        if not own[j]:
            x[j, family_cols[fam]] = 1.0
    return x


def _lc_from_coef(coef: np.ndarray, difficulties: np.ndarray) -> float:
    return float(np.mean(1.0 / (1.0 + np.exp(-(coef[2] + coef[1] * difficulties)))))


def fit_model(own: pd.DataFrame, variants: pd.DataFrame, settings: LCSettings,
              reference: pd.DataFrame | None = None) -> tuple[float, np.ndarray, Callable]:
    """LC win rate of one model, its coefficients, and a refit function for bootstrap resamples.

    `own` and `variants` carry `tanh_len` and `d` (the instruction difficulty each row uses). With a
    `reference` (the baseline's own length variants, lc_reference.py) its rows are the regulariser, as in
    AlpacaEval: no bias term, each row weighted reference_lambda / (number of variants); otherwise the length
    variants among the models given are (see the module docstring)."""
    model = own["model"].iloc[0]
    family = length_family(model)
    if reference is not None:
        reg = reference
        width, family_cols = 3, {}
        x_reg = np.c_[reg["tanh_len"].to_numpy(float), reg["difficulty"].to_numpy(float), np.zeros(len(reg))]
        per_row = settings.reference_lambda / max(reg["model"].nunique(), 1)
        c = settings.reference_model_c
    else:
        reg = variants[variants["model"] != model]
        # The model's own family (its concise/verbose siblings) shares the model's bias; other families
        # each get their own bias column.
        others = sorted(set(reg["family"]) - {family})
        family_cols = {f: 3 + j for j, f in enumerate(others)}
        width = 3 + len(others)
        reg_own = (reg["family"] == family).to_numpy() if len(reg) else np.zeros(0, bool)
        x_reg = _design(reg, reg_own, family_cols, width) if len(reg) else np.zeros((0, width))
        per_row = None
        c = settings.model_c
    p_reg = reg["preference"].to_numpy(float)
    own_diff = own["d"].to_numpy(float)
    x_own_all = _design(own, np.ones(len(own), bool), family_cols, width)
    p_own_all = own["preference"].to_numpy(float)

    def refit(idx: np.ndarray) -> tuple[float, np.ndarray]:
        x = np.vstack([x_own_all[idx], x_reg])
        p = np.r_[p_own_all[idx], p_reg]
        if per_row is not None:
            reg_w = per_row
        else:
            reg_w = settings.reg_lambda * len(idx) / len(reg) if len(reg) else 0.0
        w = np.r_[np.ones(len(idx)), np.full(len(reg), reg_w)]
        coef = _fit_small(x, p, w, c)
        return _lc_from_coef(coef, own_diff[idx]), coef

    value, coef = refit(np.arange(len(own)))
    return value, coef, refit


def position_keys(table: pd.DataFrame) -> list[str] | None:
    """Instruction key of each position in the evaluation set, from a model judged on every instruction in
    order (in AlpacaEval's files: the baseline against itself, or any complete model); None if none is."""
    n = table["instruction"].nunique()
    for _, rows in table.groupby("model", sort=True):
        rows = rows.sort_values("position", kind="stable")
        if len(rows) == n and rows["position"].tolist() == list(range(n)) and rows["instruction"].nunique() == n:
            return rows["instruction"].tolist()
    return None


def _difficulty_column(table: pd.DataFrame, difficulty: pd.Series | None, keys: list[str] | None,
                       row_order: bool) -> np.ndarray:
    """The difficulty each row uses: its own instruction's, or (row_order) that of the instruction at the
    row's position in its file, as AlpacaEval looks it up (the same thing unless rows are missing)."""
    if difficulty is None:
        return np.zeros(len(table))
    own = table["instruction"].map(difficulty).fillna(0.0).to_numpy(float)
    if not row_order:
        return own
    by_position = np.array([difficulty.get(k, 0.0) for k in keys], float)
    pos = table["position"].to_numpy(int)
    inside = pos < len(by_position)
    return np.where(inside, by_position[np.minimum(pos, len(by_position) - 1)], own)


def lc_win_rates(table: pd.DataFrame, *, baseline: str | None = None, settings: LCSettings = LCSettings(),
                 reference: pd.DataFrame | None = None,
                 difficulty_by_position: pd.Series | None = None) -> tuple[list[LCResult], dict]:
    """Raw and length-controlled win rates for every model in `table` against one baseline.

    `table` has TABLE_COLUMNS (`preference` in [0, 1]: the judge's preference for the model; 0.5 a tie) and,
    for `reference` or `settings.row_order_difficulty`, `position` (the row's place in its file).
    `reference`: the baseline's own length variants (lc_reference.read_length_reference), used as the
    length regulariser instead of the variants among the models given.
    `difficulty_by_position`: a fixed instruction-difficulty table (position → difficulty, as upstream's
    instruction_difficulty.csv or one written by `winrates --save-difficulty`) instead of the joint fit over the
    models given, so a model's LC does not depend on which other models are in the files.
    Returns (results, notes); notes list excluded models with reasons and which terms the fit used; notes
    carry `difficulty_by_position` (a Series) when positions are known, for saving.
    """
    missing = [c for c in TABLE_COLUMNS if c not in table]
    if missing:
        raise ValueError(f"the preference table lacks columns {missing}")
    notes: dict = {"excluded": {}, "settings": settings.__dict__.copy()}
    counts = table.groupby("model").size()
    small = sorted(counts[counts < settings.min_items].index)
    for m in small:
        notes["excluded"][m] = f"only {int(counts[m])} judged items (< {settings.min_items})"
    table = with_length_feature(table[~table["model"].isin(small)].reset_index(drop=True))
    # The baseline against itself carries no information on quality or length: leave it out of fits.
    fitted = table[table["model"] != baseline] if baseline else table
    keys = position_keys(table) if "position" in table else None
    if keys is None and (reference is not None or settings.row_order_difficulty or difficulty_by_position is not None):
        raise InputError("a length reference, a difficulty table and row-order difficulty need one model judged "
                         "on every instruction, in order (e.g. the baseline against itself); none is")
    if difficulty_by_position is not None:
        if len(difficulty_by_position) < len(keys) or not set(range(len(keys))) <= set(difficulty_by_position.index):
            raise InputError(f"the difficulty table covers {len(difficulty_by_position)} positions, but the "
                             f"annotations have {len(keys)} instructions (positions 0..{len(keys) - 1})",
                             field="index")
        difficulty = pd.Series([float(difficulty_by_position[i]) for i in range(len(keys))], index=keys)
        notes["difficulty_source"] = "given table"
    else:
        difficulty = instruction_difficulty(fitted, c=settings.difficulty_c)
        notes["difficulty_source"] = "joint fit over the models given"
    if keys is not None and difficulty is not None:
        notes["difficulty_by_position"] = pd.Series([difficulty.get(k, 0.0) for k in keys],
                                                    name="instruction_difficulty").rename_axis("index")
    table = table.assign(d=_difficulty_column(table, difficulty, keys, settings.row_order_difficulty))
    fitted = table[table["model"] != baseline] if baseline else table
    if reference is not None:
        by_position = np.array([difficulty.get(k, 0.0) for k in keys], float) if difficulty is not None \
            else np.zeros(len(keys))
        reference = resolve_preferences(reference, by_position)
        variants = fitted.iloc[:0].assign(family=[])
        notes["length_reference"] = {m: {"rows": int(len(r)), "mean_preference": float(r["preference"].mean())}
                                     for m, r in reference.groupby("model")}
    else:
        variants = _variant_rows(fitted)
    notes["instruction_difficulty"] = difficulty is not None
    notes["length_variant_models"] = sorted(variants["model"].unique()) if len(variants) else []
    if difficulty is None:
        notes["warning_difficulty"] = ("instruction difficulty left out of the fit (it needs two or more models "
                                       "and outcomes that are not all wins or all losses)")
    if reference is None and not len(variants):
        notes["warning_regularisation"] = ("no length variants (X with X_concise / X_verbose) among the "
                                           "models and no --length-reference: the length slope is not "
                                           "regularised")
    rng = np.random.default_rng(settings.seed)
    results = []
    for model, own in table.groupby("model", sort=True):
        own = own.reset_index(drop=True)
        raw = float(own["preference"].mean())
        if model == baseline:
            results.append(LCResult(model, len(own), raw, 0.5, 0.5, 0.5, {"by_construction": True}))
            continue
        value, coef, refit = fit_model(own, variants, settings, reference)
        boots = [refit(rng.integers(0, len(own), len(own)))[0] for _ in range(settings.n_boot)]
        lo, hi = (np.quantile(boots, [0.025, 0.975]) if boots else (np.nan, np.nan))
        names = ["length", "difficulty", "model"]
        results.append(LCResult(model, len(own), raw, value, float(lo), float(hi),
                                dict(zip(names, map(float, coef[:3])))))
    return results, notes
