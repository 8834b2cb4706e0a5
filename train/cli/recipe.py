"""`alignsmith recipe run|ls`: chained stages from a packaged recipe or a YAML file, resumable stage by stage."""
from __future__ import annotations


def register(sub) -> None:
    """Add the `recipe` command group."""
    p = sub.add_parser("recipe", help="run a recipe: prompts → generate → curate → pairs → DPO → eval → compare")
    group = p.add_subparsers(dest="recipe_command", metavar="RECIPE_COMMAND")
    p.set_defaults(func=lambda args: p.print_help() or 0)
    r = group.add_parser("run", help="run (or resume) every stage of a recipe",
                         description="Each stage runs in a fresh process into OUT/<stage>/; a rerun reuses "
                                     "finished stages and refuses a stage folder made by a different config.")
    r.add_argument("recipe", metavar="NAME|FILE.yaml", help="a packaged recipe (see `recipe ls`) or a YAML file")
    r.add_argument("--out", help="output folder (default runs/recipe/<name>-<scale>)")
    r.add_argument("--scale", default="cpu", choices=["toy", "cpu", "gpu"],
                   help="size preset inside the recipe (default cpu): toy (minutes; the tests), cpu (a 2-core "
                        "CPU: about 1 h with bf16 (AVX512-BF16), about 2 h in float32 (AVX2)), gpu (untested here: "
                        "no GPU was available)")
    r.add_argument("--seeds", type=int, nargs="+", help="training seeds (default: the recipe's)")
    r.add_argument("--model", help="base model (default: the recipe's)")
    r.add_argument("--data", help="public eval data folder (default $ALIGNSMITH_DATA or ../shared/data)")
    r.add_argument("--results", help="also copy results.json to this file")
    r.add_argument("--check", action="store_true", help="check the recipe and print its stages; run nothing")
    r.add_argument("--only", nargs="+", metavar="STAGE",
                   help="run only these stages (names from --check, or a per-seed stage's YAML name); another "
                        "runner on the same --out may run the rest at the same time")
    r.add_argument("--jobs", type=int, default=1,
                   help="stages that may run at once (default 1). With N > 1 each running stage gets its own "
                        "group of cores (vLLM binds to it, torch uses its count): on a 2-core CPU, --jobs 2 runs "
                        "the base evals beside generation and trains the seeds side by side (measured: two vLLM "
                        "stages on one core each do 1.26x the work of one unconfined stage after another)")
    r.set_defaults(func=run)
    ls = group.add_parser("ls", help="list the packaged recipes")
    ls.set_defaults(func=list_recipes)


def list_recipes(args) -> int:
    """Print the packaged recipe names."""
    from ..recipes.spec import packaged_recipes
    print("\n".join(packaged_recipes()))
    return 0


def run(args) -> int:
    """Load and check the recipe, then run it (or print its stages with --check)."""
    import shutil
    import sys
    from pathlib import Path

    from alignsmith.curate.core.runs import runs_root

    from ..recipes.runner import StageFailed, run_recipe
    from ..recipes.slots import cpu_slots
    from ..recipes.spec import load_recipe, recipe_text
    if args.out:
        out = args.out
    else:
        stem = Path(args.recipe).stem if args.recipe.endswith((".yaml", ".yml")) else args.recipe
        out = str(runs_root() / "recipe" / f"{stem}-{args.scale}")
    try:
        cpu_slots(args.jobs)
    except ValueError as e:
        print(f"alignsmith recipe: {e}", file=sys.stderr)
        return 2
    recipe_text(args.recipe)  # unknown name / missing file: one clear line before anything else
    recipe = load_recipe(args.recipe, scale=args.scale, seeds=args.seeds, out=out, data=args.data,
                         model=args.model)
    if args.check:
        for s in recipe.stages:
            print(f"{s.name:<28} {s.uses}")
        return 0
    import signal

    # A terminated runner must not leave its stage's process running on: SystemExit inside the wait makes
    # subprocess.run kill the child before the runner exits (the stage stays without DONE, so it reruns).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        result = run_recipe(recipe, out, only=set(args.only) if args.only else None, jobs=args.jobs)
    except StageFailed as e:
        print(f"alignsmith recipe: {e}")
        return 1
    if args.results and result["results"]:
        Path(args.results).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(out) / "results.json", args.results)
        print(f"results copied to {args.results}")
    return 0
