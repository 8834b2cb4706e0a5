"""`alignsmith train sft|rm|dpo|ppo|grpo`: parse the config and call the plain training function."""
from __future__ import annotations

import argparse

HELP = """\
options (after METHOD, in any order):
  --config FILE          training YAML (own fields + a `trl:` section)
  --preset NAME          cpu-smoke or gpu (train/presets/*.yaml), applied before --config
  --model NAME_OR_PATH   --dataset RUN_FOLDER_OR_FILE   --out FOLDER   --seed N   --merge
  --lora.enabled false   --lora.r 16   --reward_model FOLDER   --rewards verifiers
  --qlora                sft/dpo: 4-bit NF4 base (bitsandbytes, the `qlora` extra) + LoRA; --qlora.<opt> too
  --eval.prompts FILE    --max_rows N
  --trl.<arg> VALUE      any argument of TRL's config class (e.g. --trl.learning_rate 1e-5)
  --print-config         print the resolved config, each field with its help as a comment, and exit
  --list-trl-args        list the TRL arguments for METHOD and exit
"""


def register(subparsers) -> None:
    """Add the `train` command."""
    p = subparsers.add_parser("train", help="train with TRL: sft, rm (reward model), dpo, ppo, grpo",
                              description="Train a model with TRL on alignsmith datasets.", epilog=HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("method", choices=["sft", "rm", "dpo", "ppo", "grpo"])
    # Everything after METHOD is a free-form override so that every TRL argument is reachable.
    p.add_argument("options", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=run_train, train_parser=p)


def run_train(args) -> int:
    """Build the config from preset/file/flags, then train (or just print the config)."""
    from alignsmith.curate.core.config import commented_yaml

    from ..config import build_config, parse_overrides
    if {"-h", "--help"} & set(args.options):  # REMAINDER swallows --help after METHOD
        args.train_parser.print_help()
        return 0
    overrides = parse_overrides(list(args.options))
    config_file = overrides.pop("config", None)
    preset = overrides.pop("preset", None)
    print_only = overrides.pop("print_config", False)
    if overrides.pop("list_trl_args", False):
        print_trl_args(args.method)
        return 0
    config = build_config(args.method, config_file=config_file, preset=preset, overrides=overrides)
    if print_only:
        print(commented_yaml(config), end="")
        return 0
    from ..rl_methods import train
    train(config)
    return 0


def print_trl_args(method: str) -> None:
    """Every argument of the method's TRL config class with its default."""
    import dataclasses

    from ..trl_compat import config_class
    cls = config_class(method)
    print(f"{cls.__module__}.{cls.__name__} (set with --trl.<name> VALUE or a `trl:` YAML section)")
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else (
            "<factory>" if f.default_factory is not dataclasses.MISSING else "<required>")
        print(f"  {f.name} = {default!r}")
