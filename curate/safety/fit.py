"""Refit the safety classifiers' logistic-regression heads from their training sets.

    python -m alignsmith.curate.safety.fit --data-dir ../shared/data [--out-dir DIR] [--seed 0]

writes `refusal_head.json` and `harmful_prompt_head.json` (by default over the copies shipped in this
package; `--only harmful_prompt` refits just one). The refusal head's regularisation strength is chosen
by cross-validation on its training set. The harmful-prompt head is a logistic-regression probe over
the embedded SmolLM2's middle-layer hidden states (`lm_features.py`; layers, pooling and C chosen on our
own dev sets `prompt_dev*.jsonl`, which are never fitted on); its decision
threshold is picked on those dev sets with the phrase rules applied, as the classifier uses them.
XSTest is never read.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..core.models import EMBEDDED_MODEL
from .embedder import encode
from .linear_head import HARMFUL_PROMPT_WEIGHTS, REFUSAL_WEIGHTS, LinearHead
from .lm_features import lm_features
from .training_data import (
    OWN_PROMPT_DEVS,
    PROMPT_LABELS,
    LabelledTexts,
    harmful_prompt_training_set,
    own_examples,
    refusal_training_set,
)

# Refusals are decided in the opening of an answer; 128 word pieces cover it and keep encoding fast.
REFUSAL_MAX_TOKENS = 128
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
# Harmful-prompt probe, chosen on our own dev sets (docs/benchmarks.md): SmolLM2 layers 16/19/22, last
# position and mean, standardised, logistic regression with C = 0.01.
PROBE_LAYERS = (16, 19, 22)
PROBE_POOLS = ("last", "mean")
PROBE_MAX_TOKENS = 160
PROBE_C = 0.01
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


def _dev_threshold(probability) -> tuple[float, dict[str, float]]:
    """Pick the threshold with the best accuracy on our own dev sets, rules applied (ties: nearest 0.5).

    `probability(texts)` gives the model's scores; all dev sets count, pooled (never fitted on).
    """
    import numpy as np

    from .harmful_rules import match_harmful_rule
    dev = [row for name in OWN_PROMPT_DEVS for row in own_examples(name)]
    truth = np.asarray([PROMPT_LABELS[r["label"]] for r in dev]) == 1
    model = np.asarray(probability([r["text"] for r in dev]))
    ruled = np.asarray([match_harmful_rule(r["text"]) is not None for r in dev])
    accuracy = {str(t): round(float(np.mean(((model >= t) | ruled) == truth)), 4) for t in THRESHOLD_GRID}
    best = max(THRESHOLD_GRID, key=lambda t: (accuracy[str(t)], -abs(t - 0.5)))
    return best, accuracy


def fit_probe_head(data: LabelledTexts, *, seed: int, name: str, model: str = EMBEDDED_MODEL) -> LinearHead:
    """Fit a class-balanced logistic regression over standardised LM hidden-state features (`lm_features`);
    the standardisation is folded into the weights, and the dev-set threshold is recorded in the meta."""
    import numpy as np
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def features(texts):
        return lm_features(texts, model=model, layers=PROBE_LAYERS, pools=PROBE_POOLS, max_tokens=PROBE_MAX_TOKENS)

    x = features(data.texts)
    scaler = StandardScaler().fit(x)
    fitted = LogisticRegression(C=PROBE_C, class_weight="balanced", max_iter=5000, random_state=seed).fit(
        scaler.transform(x), np.asarray(data.labels))
    # w·((x - mu) / sigma) + b  ==  (w / sigma)·x + (b - w·mu / sigma): one plain linear head at run time
    coef = fitted.coef_[0] / scaler.scale_
    head = LinearHead(coef=coef.tolist(), intercept=float(fitted.intercept_[0] - coef @ scaler.mean_))
    threshold, dev_accuracy = _dev_threshold(lambda texts: head.probability(features(texts)))
    head.meta = {"name": name, "features": "lm_hidden", "feature_model": model, "layers": list(PROBE_LAYERS),
                 "pools": list(PROBE_POOLS), "max_tokens": PROBE_MAX_TOKENS, "C": PROBE_C, "seed": seed,
                 "threshold": threshold, "dev_accuracy_by_threshold_with_rules": dev_accuracy,
                 "dev_set": list(OWN_PROMPT_DEVS), "trained_on": data.counts(), "n": len(data.texts),
                 "sklearn": sklearn.__version__,
                 "note": "XSTest is held out: never used to fit or tune this head. Layers, pooling, C and the "
                         "threshold were chosen on our own dev sets, which are never fitted on."}
    return head


def fit_all(data_dir: str | Path, out_dir: str | Path | None = None, seed: int = 0,
            only: str | None = None, augment_share: float = 0.0) -> dict[str, Path]:
    """Fit both heads (or `only` one: "refusal" / "harmful_prompt") and write their JSON files; returns {name: path}.

    `augment_share` adds preface/wrapper variants to the harmful-prompt training set (0 for the shipped head)."""
    out = Path(out_dir) if out_dir else Path(__file__).resolve().parent
    paths = {}
    if only in (None, "refusal"):
        refusal = fit_head(refusal_training_set(data_dir, seed=seed), max_tokens=REFUSAL_MAX_TOKENS, seed=seed,
                           name="refusal")
        paths["refusal"] = out / REFUSAL_WEIGHTS
        refusal.save(paths["refusal"])
    if only in (None, "harmful_prompt"):
        data = harmful_prompt_training_set(data_dir, seed=seed, augment_share=augment_share)
        harmful = fit_probe_head(data, seed=seed, name="harmful_prompt")
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
    parser.add_argument("--augment", type=float, default=0.0, metavar="SHARE",
                        help="add preface/wrapper variants of this share of the harmful-prompt training set "
                             "(0: the shipped head; 0.05 measured in docs/benchmarks.md)")
    args = parser.parse_args(argv)
    for name, path in fit_all(args.data_dir, args.out_dir, args.seed, args.only, args.augment).items():
        meta = LinearHead.load(path).meta
        scores = {k: meta[k] for k in ("C", "cv_balanced_accuracy", "threshold", "dev_accuracy_by_threshold_with_rules")
                  if k in meta}
        print(f"{name}: {path} (n={meta['n']}, {scores})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
