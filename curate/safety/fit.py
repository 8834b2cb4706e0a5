"""Refit the safety classifiers' logistic-regression heads from their training sets.

    python -m alignsmith.curate.safety.fit --data-dir ../shared/data [--out-dir DIR] [--seed 0]

writes `refusal_head.json` and `harmful_prompt_head.json` (by default over the copies shipped in this
package). The regularisation strength is chosen by cross-validation on the training set only.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .embedder import encode
from .linear_head import HARMFUL_PROMPT_WEIGHTS, REFUSAL_WEIGHTS, LinearHead
from .training_data import LabelledTexts, harmful_prompt_training_set, refusal_training_set

# Refusals are decided in the opening of an answer; 128 word pieces cover it and keep encoding fast.
REFUSAL_MAX_TOKENS = 128
PROMPT_MAX_TOKENS = 128
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def fit_head(data: LabelledTexts, *, max_tokens: int, seed: int, name: str) -> LinearHead:
    """Embed the texts and fit a class-balanced logistic regression, C picked by 5-fold CV."""
    import numpy as np
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    features = encode(data.texts, max_tokens=max_tokens)
    labels = np.asarray(data.labels)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)

    def model(c: float) -> LogisticRegression:
        return LogisticRegression(C=c, class_weight="balanced", max_iter=5000)

    cv = {c: float(cross_val_score(model(c), features, labels, cv=folds, scoring="balanced_accuracy").mean())
          for c in C_GRID}
    best_c = max(C_GRID, key=lambda c: (round(cv[c], 4), -c))  # ties go to the stronger regularisation
    fitted = model(best_c).fit(features, labels)
    meta = {"name": name, "embedding_model": "sentence-transformers/all-MiniLM-L6-v2 (mean pooling, L2)",
            "max_tokens": max_tokens, "seed": seed, "C": best_c,
            "cv_balanced_accuracy": {str(c): round(s, 4) for c, s in cv.items()},
            "trained_on": data.counts(), "n": len(data.texts), "sklearn": sklearn.__version__,
            "note": "XSTest is held out: never used to fit or tune this head."}
    return LinearHead(coef=fitted.coef_[0].tolist(), intercept=float(fitted.intercept_[0]), meta=meta)


def fit_all(data_dir: str | Path, out_dir: str | Path | None = None, seed: int = 0) -> dict[str, Path]:
    """Fit both heads and write their JSON files; returns {name: path}."""
    out = Path(out_dir) if out_dir else Path(__file__).resolve().parent
    refusal = fit_head(refusal_training_set(data_dir, seed=seed), max_tokens=REFUSAL_MAX_TOKENS, seed=seed,
                       name="refusal")
    harmful = fit_head(harmful_prompt_training_set(data_dir, seed=seed), max_tokens=PROMPT_MAX_TOKENS, seed=seed,
                       name="harmful_prompt")
    paths = {"refusal": out / REFUSAL_WEIGHTS, "harmful_prompt": out / HARMFUL_PROMPT_WEIGHTS}
    refusal.save(paths["refusal"])
    harmful.save(paths["harmful_prompt"])
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: refit and print where the weights went and their CV scores."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="the shared public data folder (AdvBench, HarmBench, ...)")
    parser.add_argument("--out-dir", default=None, help="where to write the JSON heads (default: this package)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name, path in fit_all(args.data_dir, args.out_dir, args.seed).items():
        head = LinearHead.load(path)
        print(f"{name}: {path} (C={head.meta['C']}, n={head.meta['n']}, "
              f"cv balanced accuracy {head.meta['cv_balanced_accuracy']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
