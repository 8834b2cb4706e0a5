"""A logistic-regression head over sentence embeddings, stored as plain JSON in the package.

Fitting uses scikit-learn (see `fit.py`); using a fitted head needs only numpy, so a detector loads in
the time it takes to read 384 numbers.
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
        logits = np.asarray(features, dtype=np.float64) @ np.asarray(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def to_json(self) -> dict:
        """The JSON-serialisable form (coefficients rounded to keep the file small)."""
        return {"coef": [round(float(c), 6) for c in self.coef], "intercept": round(float(self.intercept), 6),
                "meta": self.meta}

    def save(self, path: str | Path) -> None:
        """Write the head as JSON (atomically)."""
        from ..datafiles import write_json
        write_json(path, self.to_json())

    @classmethod
    def from_json(cls, data: dict) -> "LinearHead":
        """Build a head from its JSON form."""
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
