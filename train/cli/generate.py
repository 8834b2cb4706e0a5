"""`alignsmith generate`: n candidates per prompt with vLLM (default), transformers or an OpenAI-compatible fleet."""
from __future__ import annotations

import sys


def register(sub) -> None:
    """Add the `generate` sub-command."""
    from alignsmith.curate.core.config import add_config_args
    from alignsmith.curate.generate.run import GenerateConfig
    p = sub.add_parser("generate", help="sample n candidates per prompt into a resumable run folder",
                       description="Sample n candidates per prompt into a sharded run folder. Rerunning the "
                                   "same command on the same --out resumes it; a different config is refused.")
    p.add_argument("--config", help="YAML preset with any of the fields below; flags override it")
    p.add_argument("--out", help="run folder (default: runs/generate/<utc>-<hash>); rerun on it to resume")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local: one engine in this process; ray: engines as Ray Data actors (default: local)")
    p.add_argument("--ray-address", help="Ray cluster address (default: start a local Ray with --ray-cpus)")
    p.add_argument("--ray-cpus", type=int, default=2, help="CPUs of the local Ray instance (default: 2)")
    p.add_argument("--ray-actors", type=int, default=1, help="engine actors (default: 1)")
    p.add_argument("--ray-cpus-per-actor", type=float, default=1.0, help="CPUs reserved per actor (default: 1)")
    p.add_argument("--ray-gpus-per-actor", type=float, default=0.0, help="GPUs reserved per actor (default: 0)")
    p.add_argument("--ray-shards-per-call", type=int, default=1,
                   help="shards an actor streams through its engine together, so its batch stays full across "
                        "shard boundaries (default: 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (the summary still prints)")
    add_config_args(p, GenerateConfig)
    p.set_defaults(func=run)


def run(args) -> int:
    """Handler: build the config (YAML, then flags), generate, print the summary."""
    from alignsmith.curate.core.config import args_to_overrides, load_config
    from alignsmith.curate.generate.run import GenerateConfig, generate
    config = load_config(GenerateConfig, args.config, args_to_overrides(args, GenerateConfig))
    config.validate()
    ray_options = {"address": args.ray_address, "num_cpus": args.ray_cpus, "actors": args.ray_actors,
                   "cpus_per_actor": args.ray_cpus_per_actor, "gpus_per_actor": args.ray_gpus_per_actor,
                   "shards_per_call": args.ray_shards_per_call}
    from alignsmith.curate.backends.openai_backend import GenerationRequestError
    try:
        result = generate(config, out=args.out, progress=not args.no_progress, executor=args.executor,
                          ray_options=ray_options)
    except GenerationRequestError as e:
        print(f"alignsmith generate: error: {e}\n  finished shards are kept; rerun the same command "
              "(same --out) to resume once the servers answer", file=sys.stderr)
        return 1
    print(result.summary())
    return 0
