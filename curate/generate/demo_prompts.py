"""The built-in demo prompt set: everyday tasks with 1–2 verifiable constraints, split train / held-out eval.

Written for this project (Apache-2.0, like the code). Constraint types are ones a 135M model can learn
from a few dozen preference steps: word limits, no commas, keywords, bullet counts, end phrases.
"""
from __future__ import annotations

from importlib import resources

from .prompts import load_prompts

DEMO_PROMPTS_FILE = "demo_prompts.jsonl"


def demo_prompts_path() -> str:
    """Path of the packaged JSONL file."""
    return str(resources.files(__package__) / DEMO_PROMPTS_FILE)


def load_demo_prompts(split: str = "train") -> list[dict]:
    """Prompt rows of one split: "train", "eval" or "all"."""
    if split not in ("train", "eval", "all"):
        raise ValueError(f"split must be train, eval or all, not {split!r}")
    rows, _ = load_prompts(demo_prompts_path())
    return [r for r in rows if split == "all" or r.get("split") == split]
