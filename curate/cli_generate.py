"""`alignsmith generate`: n candidates per prompt with vLLM (default), transformers or an OpenAI-compatible fleet."""
from __future__ import annotations


def register(sub) -> None:
    from .config import add_config_args
    from .generate import GenerateConfig
    p = sub.add_parser("generate", help="sample n candidates per prompt into a resumable run folder")
    p.add_argument("--config", help="YAML preset; flags override it")
    p.add_argument("--out", help="run folder (rerun on the same folder resumes it)")
    p.add_argument("--executor", choices=["local"], default="local")
    add_config_args(p, GenerateConfig)
    p.set_defaults(func=run)


def run(args) -> int:
    from .config import args_to_overrides, load_config
    from .generate import GenerateConfig, generate
    config = load_config(GenerateConfig, args.config, args_to_overrides(args, GenerateConfig))
    if not config.prompts:
        raise ValueError("--prompts PATH is required (JSONL/CSV/Parquet with a `prompt` field)")
    result = generate(config, out=args.out)
    print(result.summary())
    return 0
