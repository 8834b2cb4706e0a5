"""Refit the safety classifiers' logistic-regression heads from their training sets.

    python -m alignsmith.curate.safety.fit --data-dir ../shared/data [--out-dir DIR] [--seed 0]

writes `refusal_head.json` and `harmful_prompt_head.json` (by default over the copies shipped in this
package; `--only harmful_prompt` refits just one). The refusal head's regularisation strength is chosen
by cross-validation on its training set. The harmful-prompt head is a small MLP (one hidden layer of
64 ReLU units, L2 alpha 0.01, chosen on our own dev set `prompt_dev.jsonl`, which is never fitted on);
its decision threshold is picked on that dev set with the phrase rules applied, as the classifier uses
them. XSTest is never read.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .embedder import encode
from .linear_head import HARMFUL_PROMPT_WEIGHTS, REFUSAL_WEIGHTS, LinearHead
from .training_data import (OWN_PROMPT_DEV, PROMPT_LABELS, LabelledTexts, harmful_prompt_training_set, own_examples,
                            refusal_training_set)

# Refusals are decided in the opening of an answer; 128 word pieces cover it and keep encoding fast.
REFUSAL_MAX_TOKENS = 128
PROMPT_MAX_TOKENS = 128
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
MLP_HIDDEN = 64
MLP_ALPHA = 0.01
THRESHOLD_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


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


def _dev_threshold(head: LinearHead, max_tokens: int) -> tuple[float, dict[str, float]]:
    """Pick the threshold with the best accuracy on our own dev set, rules applied (ties: nearest 0.5)."""
    import numpy as np

    from .harmful_rules import match_harmful_rule
    dev = own_examples(OWN_PROMPT_DEV)
    truth = np.asarray([PROMPT_LABELS[r["label"]] for r in dev]) == 1
    model = head.probability(encode([r["text"] for r in dev], max_tokens=max_tokens))
    ruled = np.asarray([match_harmful_rule(r["text"]) is not None for r in dev])
    accuracy = {str(t): round(float(np.mean(((model >= t) | ruled) == truth)), 4) for t in THRESHOLD_GRID}
    best = max(THRESHOLD_GRID, key=lambda t: (accuracy[str(t)], -abs(t - 0.5)))
    return best, accuracy


def fit_mlp_head(data: LabelledTexts, *, max_tokens: int, seed: int, name: str) -> LinearHead:
    """Embed the texts, fit a one-hidden-layer MLP, and record the dev-set threshold in its meta."""
    import numpy as np
    import sklearn
    from sklearn.neural_network import MLPClassifier

    features = encode(data.texts, max_tokens=max_tokens)
    fitted = MLPClassifier((MLP_HIDDEN,), alpha=MLP_ALPHA, max_iter=500, random_state=seed).fit(
        features, np.asarray(data.labels))
    head = LinearHead(coef=fitted.coefs_[1][:, 0].tolist(), intercept=float(fitted.intercepts_[1][0]),
                      hidden_coef=fitted.coefs_[0].tolist(), hidden_intercept=fitted.intercepts_[0].tolist())
    threshold, dev_accuracy = _dev_threshold(head, max_tokens)
    head.meta = {"name": name, "embedding_model": "sentence-transformers/all-MiniLM-L6-v2 (mean pooling, L2)",
                 "max_tokens": max_tokens, "seed": seed, "hidden": MLP_HIDDEN, "alpha": MLP_ALPHA,
                 "threshold": threshold, "dev_accuracy_by_threshold_with_rules": dev_accuracy,
                 "dev_set": OWN_PROMPT_DEV, "trained_on": data.counts(), "n": len(data.texts),
                 "sklearn": sklearn.__version__,
                 "note": "XSTest is held out: never used to fit or tune this head. The dev set is our own and "
                         "only picks the threshold."}
    return head


def fit_all(data_dir: str | Path, out_dir: str | Path | None = None, seed: int = 0,
            only: str | None = None) -> dict[str, Path]:
    """Fit both heads (or `only` one: "refusal" / "harmful_prompt") and write their JSON files; returns {name: path}."""
    out = Path(out_dir) if out_dir else Path(__file__).resolve().parent
    paths = {}
    if only in (None, "refusal"):
        refusal = fit_head(refusal_training_set(data_dir, seed=seed), max_tokens=REFUSAL_MAX_TOKENS, seed=seed,
                           name="refusal")
        paths["refusal"] = out / REFUSAL_WEIGHTS
        refusal.save(paths["refusal"])
    if only in (None, "harmful_prompt"):
        harmful = fit_mlp_head(harmful_prompt_training_set(data_dir, seed=seed), max_tokens=PROMPT_MAX_TOKENS,
                               seed=seed, name="harmful_prompt")
        paths["harmful_prompt"] = out / HARMFUL_PROMPT_WEIGHTS
        harmful.save(paths["harmful_prompt"])
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: refit and print where the weights went and their CV scores."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="the shared public data folder (AdvBench, HarmBench, ...)")
    parser.add_argument("--out-dir", default=None, help="where to write the JSON heads (default: this package)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("refusal", "harmful_prompt"), default=None, help="refit just this head")
    args = parser.parse_args(argv)
    for name, path in fit_all(args.data_dir, args.out_dir, args.seed, args.only).items():
        meta = LinearHead.load(path).meta
        scores = {k: meta[k] for k in ("C", "cv_balanced_accuracy", "threshold", "dev_accuracy_by_threshold_with_rules")
                  if k in meta}
        print(f"{name}: {path} (n={meta['n']}, {scores})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
