"""A logistic-regression head over feature vectors (sentence embeddings or LM hidden states), optionally after one ReLU hidden layer (a small
MLP), stored as plain JSON in the package.

Fitting uses scikit-learn (see `fit.py`); using a fitted head needs only numpy, so a detector loads in
the time it takes to read a few thousand numbers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

REFUSAL_WEIGHTS = "refusal_head.json"
HARMFUL_PROMPT_WEIGHTS = "harmful_prompt_head.json"


@dataclass
class LinearHead:
    """p(positive | x) = sigmoid(h(x) · coef + intercept), plus a record of how it was fitted.

    h(x) = x without a hidden layer; with one, h(x) = relu(x · hidden_coef + hidden_intercept)
    (`hidden_coef` is d rows of k numbers, as scikit-learn's MLPClassifier stores it).
    """

    coef: list[float]
    intercept: float
    meta: dict = field(default_factory=dict)
    hidden_coef: list[list[float]] | None = None
    hidden_intercept: list[float] | None = None

    def probability(self, features):
        """Positive-class probability for each row of a (n, d) array."""
        import numpy as np
        x = np.asarray(features, dtype=np.float64)
        if self.hidden_coef is not None:
            x = np.maximum(x @ np.asarray(self.hidden_coef) + np.asarray(self.hidden_intercept), 0.0)
        logits = np.clip(x @ np.asarray(self.coef) + self.intercept, -500.0, 500.0)  # no exp overflow
        return 1.0 / (1.0 + np.exp(-logits))

    def to_json(self) -> dict:
        """The JSON-serialisable form (coefficients rounded to keep the file small)."""
        # 6 significant digits: a probe over raw hidden states has weights down to 1e-6 (features up to ~1e3)
        out = {"coef": [float(f"{c:.6g}") for c in self.coef], "intercept": float(f"{self.intercept:.6g}"),
               "meta": self.meta}
        if self.hidden_coef is not None:
            # 5 decimals: the hidden layer is most of the file, and 1e-5 changes no prediction that matters.
            out["hidden_coef"] = [[round(float(c), 5) for c in row] for row in self.hidden_coef]
            out["hidden_intercept"] = [round(float(c), 5) for c in self.hidden_intercept]
        return out

    def save(self, path: str | Path) -> None:
        """Write the head as JSON (atomically); one line per number only for small heads."""
        from ..datafiles import atomic_write_bytes, write_json
        if self.hidden_coef is None and len(self.coef) <= 512:
            write_json(path, self.to_json())
        else:  # thousands of numbers: compact JSON keeps the file small
            atomic_write_bytes(path, (json.dumps(self.to_json(), separators=(",", ":")) + "\n").encode())

    @classmethod
    def from_json(cls, data: dict) -> "LinearHead":
        """Build a head from its JSON form."""
        return cls(coef=list(data["coef"]), intercept=float(data["intercept"]), meta=dict(data.get("meta", {})),
                   hidden_coef=data.get("hidden_coef"), hidden_intercept=data.get("hidden_intercept"))

    @classmethod
    def load(cls, path_or_name: str | Path) -> "LinearHead":
        """Load a head from a file path, or by file name from the weights shipped in this package."""
        path = Path(path_or_name)
        if path.exists():
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        shipped = resources.files(__package__).joinpath(str(path_or_name))
        if not shipped.is_file():
            raise FileNotFoundError(f"classifier weights {path_or_name!r} not found (neither a file nor shipped "
                                    f"in {__package__}); refit with: python -m {__package__}.fit --data-dir DIR")
        return cls.from_json(json.loads(shipped.read_text(encoding="utf-8")))
