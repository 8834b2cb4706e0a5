"""Lineage: every checkpoint folder says what made it (`alignsmith_lineage.json`)."""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from transformers import TrainerCallback

LINEAGE_FILE = "alignsmith_lineage.json"


def lineage_record(config: dict, dataset: dict | None, base_model: str, **extra) -> dict:
    """The lineage dict: training config, dataset fingerprint/card, base model, git revision, versions."""
    from alignsmith.curate.core.runs import git_sha, package_versions
    record = {"training_config": config, "dataset": dataset, "base_model": base_model,
              "git_revision": git_sha(), "versions": package_versions(),
              "written_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    parent = Path(base_model) / LINEAGE_FILE
    if parent.exists():
        # Trained from an alignsmith checkpoint (e.g. DPO on the SFT model): keep the chain walkable.
        previous = json.loads(parent.read_text(encoding="utf-8"))
        record["parent"] = {"checkpoint": str(Path(base_model)), "method": previous.get("method"),
                            "dataset": previous.get("dataset"), "base_model": previous.get("base_model")}
    record.update(extra)
    return record


def write_lineage(folder: str | Path, record: dict, **extra) -> Path:
    """Write `alignsmith_lineage.json` into `folder` (atomically)."""
    from alignsmith.curate.core.datafiles import write_json
    path = Path(folder) / LINEAGE_FILE
    write_json(path, {**record, **extra, "checkpoint": str(Path(folder))})
    return path


def read_lineage(folder: str | Path) -> dict:
    """The lineage of a checkpoint folder; FileNotFoundError names the file looked for."""
    path = Path(folder) / LINEAGE_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: {folder} is not a checkpoint written by alignsmith train")
    return json.loads(path.read_text(encoding="utf-8"))


class LineageCallback(TrainerCallback):
    """Writes the lineage file into each `checkpoint-<step>` folder the trainer saves."""

    def __init__(self, record: dict):
        self.record = record

    def on_save(self, args, state, control, **kwargs):
        """Write the lineage file into the checkpoint folder just saved."""
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir() and state.is_world_process_zero:
            write_lineage(folder, self.record, step=state.global_step)
        return control
