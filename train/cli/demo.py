"""`alignsmith demo`: the whole product once, on the embedded model (what `make demo` runs)."""
from __future__ import annotations


def register(sub) -> None:
    from alignsmith.curate.core.config import add_config_args

    from ..demo import DemoConfig
    p = sub.add_parser("demo", help="prompts → vLLM candidates → checks → pairs → LoRA-DPO → eval → dashboard")
    p.add_argument("--config", help="YAML preset; flags override it")
    add_config_args(p, DemoConfig)
    p.set_defaults(func=run)


def run(args) -> int:
    from alignsmith.curate.core.config import args_to_overrides, load_config

    from ..demo import DemoConfig, run_demo
    config = load_config(DemoConfig, args.config, args_to_overrides(args, DemoConfig))
    run_demo(config)
    return 0
