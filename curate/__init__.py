"""alignsmith.curate: prompts -> candidate responses -> filtered, scored rows -> preference pairs.

The stage folders, lowest floor first (each imports only its own folder and the ones before it;
docs/architecture.md): core, backends, verifiers, dedup, generate, steps, pairs, judges, safety, importers,
pipeline. The plain functions a Python user calls are named here and imported on first use, so importing
one small module (say `alignsmith.curate.core.records`) never loads torch or vLLM:

    from alignsmith.curate import GenerateConfig, build_pairs, curate_run, generate_candidates, load_prompts
"""
from __future__ import annotations

from .core.registry import lazy_exports

# public name -> "module:attribute" under alignsmith.curate (a name equal to a stage folder would be shadowed
# by that subpackage once it is imported, hence `generate_candidates` for generate.run:generate)
_EXPORTS = {
    "InputError": "core.errors:InputError",
    "read_rows": "core.datafiles:read_rows",
    "write_jsonl": "core.datafiles:write_jsonl",
    "read_parquet": "core.datafiles:read_parquet",
    "write_parquet": "core.datafiles:write_parquet",
    "make_prompt_row": "core.records:make_prompt_row",
    "prompt_text": "core.records:prompt_text",
    "data_dir": "core.paths:data_dir",
    "load_prompts": "generate.prompts:load_prompts",
    "load_demo_prompts": "generate.demo_prompts:load_demo_prompts",
    "augment_prompts": "generate.augment:augment_prompts",
    "GenerateConfig": "generate.run:GenerateConfig",
    "generate_candidates": "generate.run:generate",
    "load_candidates": "generate.run:load_candidates",
    "verify": "verifiers.api:verify",
    "DedupConfig": "dedup.settings:DedupConfig",
    "dedup_rows": "dedup.core:dedup_rows",
    "decontaminate": "steps.decontam:decontaminate",
    "curate_rows": "pipeline.run:curate_rows",
    "curate_run": "pipeline.run:curate_run",
    "load_input": "pipeline.run:load_input",
    "PairsConfig": "pairs.build:PairsConfig",
    "build_pairs": "pairs.build:build_pairs",
    "write_pairs_run": "pairs.export:write_pairs_run",
    "import_dataset": "importers.run:import_dataset",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
