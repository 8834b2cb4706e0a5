"""Writing an import into its run folder: row files, the card, metrics, then DONE (always last)."""
from __future__ import annotations

import json
from typing import Any

from ..core.datafiles import atomic_write_bytes, write_json, write_parquet
from ..core.runs import RunFolder, metric


def write_import_run(run: RunFolder, result: Any, config: dict, pairs_result: Any | None) -> None:
    """Write every file of the import run; an empty SFT or pairs set writes no file (datasets cannot load
    an empty Parquet file, and a missing file gives `train` a clear message naming what is there)."""
    write_parquet(run.file("prompts.parquet"), result.prompts)
    for name, rows in (("sft", result.sft), ("dpo", result.pairs)):
        if rows:
            write_parquet(run.file(f"{name}.parquet"), rows)
        else:
            run.file(f"{name}.parquet").unlink(missing_ok=True)  # a resumed folder must not keep stale rows
    write_parquet(run.file("quarantine.parquet"), result.quarantine)
    card = {"format": result.format, "input": config["input"], "input_fingerprint": config["input_fingerprint"],
            "options": config["options"], "rows_read": result.rows_read, "prompts": len(result.prompts),
            "sft_rows": len(result.sft), "pairs": len(result.pairs), "skipped": len(result.quarantine),
            "skipped_by_reason": result.skipped_by_reason}
    if result.held_out:
        card["held_out"] = result.held_out
    markdown = import_card_markdown(card)
    if pairs_result is not None:
        from ..pairs.card import card_data, card_markdown
        write_parquet(run.file("scored_candidates.parquet"), pairs_result.candidates)
        write_parquet(run.file("dropped_candidates.parquet"), pairs_result.dropped_candidates)
        write_parquet(run.file("dropped_pairs.parquet"), pairs_result.dropped_pairs)
        card["pairs_card"] = card_data(pairs_result)
        markdown += "\n" + card_markdown(card["pairs_card"])
    write_json(run.file("card.json"), card)
    atomic_write_bytes(run.file("card.md"), markdown.encode("utf-8"))
    run.write_metrics(import_metrics(result))
    run.mark_done()


def import_metrics(result: Any) -> dict:
    """metrics.json: row counts and the skipped share (lower is better)."""
    n = result.rows_read
    return {"rows_read": metric(n, higher_is_better=None, n=n),
            "prompts": metric(len(result.prompts), higher_is_better=None, n=n),
            "sft_rows": metric(len(result.sft), higher_is_better=None, n=n),
            "pairs": metric(len(result.pairs), higher_is_better=None, n=n),
            "skipped": metric(len(result.quarantine), higher_is_better=False, n=n),
            "skipped_share": metric(len(result.quarantine) / n if n else None, higher_is_better=False, n=n),
            **({"held_out_gold": metric(result.held_out["held_out"], higher_is_better=None, n=n)}
               if result.held_out else {})}


def import_card_markdown(card: dict) -> str:
    """A short Markdown card: where the rows came from, how they were read, what was skipped and why."""
    lines = ["# Imported dataset", "",
             f"Source: `{card['input']}` ({card['input_fingerprint']}), read as **{card['format']}** with "
             f"options `{json.dumps(card['options'], sort_keys=True)}`.", "",
             "| rows read | prompts | SFT rows | pairs | skipped |", "|---|---|---|---|---|",
             f"| {card['rows_read']} | {card['prompts']} | {card['sft_rows']} | {card['pairs']} | {card['skipped']} |",
             "", "## Skipped rows (by reason; every one is in quarantine.parquet with its line)", ""]
    lines += [f"- {n}: {reason}" for reason, n in card["skipped_by_reason"].items()] or ["- none"]
    if card.get("held_out"):
        h = card["held_out"]
        lines += ["", "## Held out (`--exclude-gold`)", "",
                  f"{h['held_out']} source rows are {h['gold_items_found']} of the {h['gold_items']} items of the "
                  f"{h['source']} (gold fingerprint {h['gold_fingerprint']}); each is in quarantine.parquet with "
                  f"its `gold_item`. {h['kept_pairs_sharing_a_gold_prompt']} kept pairs share a prompt with a gold "
                  "item but have other answers."]
    if card["options"].get("alpaca_join"):
        lines += ["", f"Alpaca `input` joined to the instruction as `{card['options']['alpaca_join']}` "
                  "(newline: instruction, blank line, input; template: the full Stanford Alpaca prompt)."]
    return "\n".join(lines) + "\n"
