"""Quiet training output for `alignsmith demo`: progress bars and stage summaries stay, raw log dicts go.

Transformers' ProgressCallback prints every `logs` dict (`{'loss': ..., 'grad_norm': ...}`) under the
progress bar; between the demo's stage summaries those lines are noise for a newcomer. The numbers are
still in the run folder (trainer_state / metrics.json), and `alignsmith demo --verbose` brings them back.
"""
from __future__ import annotations

import os

QUIET_ENV = "ALIGNSMITH_QUIET_LOGS"  # "1": set by `alignsmith demo` (without --verbose) for its stage processes


def quiet_requested() -> bool:
    """Whether this process was asked to keep trainer/engine chatter off the terminal."""
    return os.environ.get(QUIET_ENV) == "1"


def quiet_environment(verbose: bool) -> None:
    """Set the log levels the demo's stage processes inherit (an explicit user setting is kept)."""
    if verbose:
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "INFO")
        return
    os.environ.setdefault(QUIET_ENV, "1")
    # vLLM's weight-loading dtype notes (float32 checkpoint into bf16 parameters) are warnings.
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def quiet_trainer(trainer) -> None:
    """Swap the trainer's ProgressCallback for one that keeps the bar but does not print log dicts."""
    from transformers.trainer_callback import ProgressCallback

    class BarOnlyProgress(ProgressCallback):
        """The progress bar without the per-log dict lines."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            return None

    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(BarOnlyProgress)
