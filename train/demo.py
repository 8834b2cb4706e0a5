"""The demo pipeline (placeholder being written now)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DemoConfig:
    """Demo settings."""

    seed: int = 0


def run_demo(config: DemoConfig) -> None:
    raise NotImplementedError("demo is being written")
