"""Writing a pairs build into its run folder, and pushing it to a dataset hub when one is reachable."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.datafiles import write_json, write_jsonl, write_parquet
from ..core.runs import RunFolder, metric
from .card import card_data, card_markdown

# Files a user trains on or inspects; the hub gets these (card.md becomes the hub README).
EXPORT_FILES = ("dpo.parquet", "sft.parquet", "prompts.parquet", "card.json")


def pairs_run_config(config: Any, input_path: str | None = None, inputs: list[dict] | None = None) -> dict:
    """What a pairs run folder records (and hashes): the PairsConfig, the input path and its fingerprint."""
    return {**config.to_dict(), "input": input_path, "inputs": list(inputs or [])}


def write_pairs_run(result: Any, out: str | os.PathLike | None = None, *, input_path: str | None = None,
                    inputs: list[dict] | None = None) -> RunFolder:
    """Write dpo/sft/prompts Parquet, every drop with its reason, raw judgements, the card, then DONE."""
    run = RunFolder.open("pairs", pairs_run_config(result.config, input_path, inputs), out)
    write_parquet(run.file("dpo.parquet"), result.pairs)
    write_parquet(run.file("sft.parquet"), result.sft)
    write_parquet(run.file("prompts.parquet"), result.prompts)
    write_parquet(run.file("scored_candidates.parquet"), [_candidate_view(c) for c in result.candidates])
    write_parquet(run.file("dropped_candidates.parquet"),
                       [_candidate_view(c) for c in result.dropped_candidates])
    write_parquet(run.file("dropped_pairs.parquet"), result.dropped_pairs)
    # Raw judge outputs vary in shape; JSONL keeps each record exactly as the judge scorer made it.
    write_jsonl(run.file("judgements.jsonl"), result.judgements)
    card = card_data(result)
    write_json(run.file("card.json"), card)
    (run.file("card.md")).write_text(card_markdown(card), encoding="utf-8")
    run.write_metrics(pairs_metrics(card))
    run.mark_done()
    return run


def _candidate_view(row: dict) -> dict:
    """A candidate row without the joined prompt constraints (they live in prompts.parquet)."""
    return {k: v for k, v in row.items() if k not in ("instruction_id_list", "kwargs")}


def pairs_metrics(card: dict) -> dict:
    """metrics.json entries for the build (counts and the bias/agreement rates)."""
    stages = card["stages"]
    out = {"pairs_out": metric(stages["pairs_out"], higher_is_better=None, n=stages["prompts_in"]),
           "sft_rows": metric(stages["sft_rows"], higher_is_better=None, n=stages["prompts_in"]),
           "chosen_longer_share": metric(card["chosen_longer_share"], higher_is_better=False,
                                         n=stages["pairs_out"])}
    for name, j in card["judge"].items():
        if "order_agreement_rate" in j:
            out[f"{name}_order_agreement_rate"] = metric(j["order_agreement_rate"], higher_is_better=True,
                                                         n=j.get("comparisons"))
    return out


def push_to_hub(run_path: str | os.PathLike, repo_id: str, *, private: bool = True) -> str:
    """Upload the exported files (and card.md as README.md) to a dataset repo; return its URL.

    Raises ValueError with what to do when the hub is switched off or unreachable.
    """
    from huggingface_hub import HfApi, constants
    run_path = Path(run_path)
    if constants.HF_HUB_OFFLINE:
        raise ValueError("cannot push to the hub: HF_HUB_OFFLINE is set (unset it on a machine with network "
                         f"access), or copy {run_path} to where it is needed")
    api = HfApi()
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(folder_path=str(run_path), repo_id=repo_id, repo_type="dataset",
                          allow_patterns=list(EXPORT_FILES))
        api.upload_file(path_or_fileobj=str(run_path / "card.md"), path_in_repo="README.md", repo_id=repo_id,
                        repo_type="dataset")
    except Exception as e:  # network, auth and HTTP errors come in many types; all mean "not pushed"
        raise ValueError(f"could not push {run_path} to the hub repo {repo_id!r}: {type(e).__name__}: {e}. "
                         "Check network access and `huggingface-cli login`; the local files are complete.") from e
    return f"https://huggingface.co/datasets/{repo_id}"
