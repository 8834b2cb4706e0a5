"""A logistic-regression head over feature vectors (sentence embeddings or LM hidden states), stored as
plain JSON in the package.

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
    """p(positive | x) = sigmoid(x · coef + intercept), plus a record of how it was fitted."""

    coef: list[float]
    intercept: float
    meta: dict = field(default_factory=dict)

    def probability(self, features):
        """Positive-class probability for each row of a (n, d) array."""
        import numpy as np
        x = np.asarray(features, dtype=np.float64)
        logits = np.clip(x @ np.asarray(self.coef) + self.intercept, -500.0, 500.0)  # no exp overflow
        return 1.0 / (1.0 + np.exp(-logits))

    def to_json(self) -> dict:
        """The JSON-serialisable form (coefficients rounded to keep the file small)."""
        # 6 significant digits: a probe over raw hidden states has weights down to 1e-6 (features up to ~1e3)
        return {"coef": [float(f"{c:.6g}") for c in self.coef], "intercept": float(f"{self.intercept:.6g}"),
                "meta": self.meta}

    def save(self, path: str | Path) -> None:
        """Write the head as JSON (atomically); one line per number only for small heads."""
        from ..core.datafiles import atomic_write_bytes, write_json
        if len(self.coef) <= 512:
            write_json(path, self.to_json())
        else:  # thousands of numbers: compact JSON keeps the file small
            atomic_write_bytes(path, (json.dumps(self.to_json(), separators=(",", ":")) + "\n").encode())

    @classmethod
    def from_json(cls, data: dict) -> "LinearHead":
        """Build a head from its JSON form."""
        if "hidden_coef" in data:  # never read it as a plain linear head: its predictions would be wrong
            raise ValueError("this head has a hidden layer (an MLP head from an earlier alignsmith), which is no "
                             "longer supported; refit it with python -m alignsmith.curate.safety.fit")
        return cls(coef=list(data["coef"]), intercept=float(data["intercept"]), meta=dict(data.get("meta", {})))

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
