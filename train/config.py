"""Training configs: alignsmith's own fields plus a `trl:` section passed to TRL's config class.

A config is built from, in order: a preset (`train/presets/<name>.yaml`), the user's YAML file, then
command-line overrides (`--model X`, `--lora.r 16`, `--trl.learning_rate 1e-5`). Every TRL argument is
reachable through `trl:`; unknown names are refused with a "did you mean" hint.
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignsmith.curate.core.config import check_fields, option, parse_value, read_yaml_file
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.hardware import DTYPE_CHOICES

METHODS = ("sft", "rm", "dpo", "ppo", "grpo")


PRESETS_DIR = Path(__file__).resolve().parent / "presets"


@dataclass
class LoraOptions:
    """PEFT LoRA adapter options; `enabled: false` trains every weight."""

    enabled: bool = option("train a LoRA adapter on a frozen base; false: full fine-tuning of every weight", True)
    r: int = option("LoRA rank: rows/columns of each low-rank update (more is more trainable parameters)", 8)
    alpha: int = option("LoRA scaling numerator: updates are scaled by alpha / r", 16)
    dropout: float = option("dropout on the LoRA input, in [0, 1); 0 is off", 0.0)
    target_modules: Any = option(
        "which layers get adapters: all-linear (every linear layer but the output head) or a list of module "
        "names, e.g. [q_proj, v_proj]", "all-linear")


@dataclass
class QloraOptions:
    """QLoRA: the frozen base loads 4-bit through bitsandbytes (`pip install alignsmith[qlora]`); LoRA trains on top.

    Needs `lora.enabled`. `compute_dtype` is the dtype 4-bit weights are dequantised to for each matmul;
    `adapter_dtype` the LoRA weights' dtype. "auto": bfloat16 on CUDA (the QLoRA paper's choice),
    float32 on CPU (bf16 updates of small adapter weights lose precision there, and fp32 is not slower).
    """

    enabled: bool = option("load the frozen base 4-bit through bitsandbytes and train LoRA on it (sft, dpo; "
                           "needs lora.enabled and the `qlora` extra)", False)
    quant_type: str = option("4-bit format: nf4 (NormalFloat4, the QLoRA paper's) or fp4", "nf4")
    double_quant: bool = option("quantise the quantisation constants too (saves about 0.4 bits per parameter)",
                                True)
    compute_dtype: str = option("dtype the 4-bit weights are dequantised to for each matmul: auto (bfloat16 on "
                                "CUDA, float32 on CPU), bfloat16, float16 or float32", "auto")
    adapter_dtype: str = option("dtype of the LoRA weights: auto (bfloat16 on CUDA, float32 on CPU), bfloat16 "
                                "or float32", "auto")


QLORA_METHODS = ("sft", "dpo")


@dataclass
class EvalOptions:
    """The optional eval run at each checkpoint save (see train/eval_callback.py)."""

    prompts: str | None = option(
        "prompts file with instruction_id_list + kwargs (held-out constraints) answered greedily at each "
        "checkpoint save; null: no eval during training", None)
    n_prompts: int = option("how many of those prompts (the first N that carry constraints)", 8)
    max_tokens: int = option("most new tokens per greedy answer", 64)
    mode: str = option("constraint check: strict (the answer as is) or loose (passes if a loosened variant "
                       "passes, as IFEval's loose accuracy)", "strict")


@dataclass
class TrainConfig:
    """One training run: what to train, on what, where to write, and TRL's own arguments."""

    method: str = option("training method: sft, rm (reward model), dpo, ppo or grpo (given as METHOD)")
    model: str = option("base model: a known name (see `alignsmith models`) or a local Hugging Face folder",
                        "smollm2-135m-instruct")
    dataset: str | None = option(
        "a pairs/data run folder (the method's file inside it) or a Parquet/JSONL file with the method's "
        "columns", None)
    out: str | None = option("run folder to write; null: runs/train-<method>/<utc>-<hash>/", None)
    seed: int = option("random seed: seeds Python, NumPy and torch before training, and TRL's seed unless "
                       "trl.seed is set", 0)
    lora: LoraOptions = option("LoRA adapter settings (`--lora false` trains every weight)", factory=LoraOptions)
    qlora: QloraOptions = option("4-bit base for sft/dpo (`--qlora` turns it on)", factory=QloraOptions)
    merge: bool = option("also save merged full weights to <out>/merged/ (loadable by vLLM)", False)
    max_rows: int | None = option("use only the first N dataset rows (smoke runs); null: all", None)
    reward_model: str | None = option(
        "ppo/grpo: folder of a sequence classifier that scores answers (from `alignsmith train rm`)", None)
    value_model: str | None = option("ppo: folder of the value model; null: the reward model", None)
    rewards: list[str] = option(
        "grpo: reward sources summed per answer: verifiers (the prompt's constraint checks) and/or "
        "reward_model", factory=lambda: ["verifiers"])
    eval: EvalOptions = option("held-out constraint eval at each checkpoint save", factory=EvalOptions)
    trl: dict = option("arguments of TRL's config class for the method (e.g. learning_rate, beta, "
                       "max_steps); list them with --list-trl-args", factory=dict)

    def to_dict(self) -> dict:
        """Plain dict (what config.yaml and the lineage file record)."""
        return dataclasses.asdict(self)


_NESTED = {"lora": LoraOptions, "qlora": QloraOptions, "eval": EvalOptions}


def load_preset(name: str) -> dict:
    """A preset's YAML as a dict; unknown names list the available presets."""
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))
        hint = difflib.get_close_matches(name, known, n=1)
        raise InputError(f"unknown preset {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                         + f"; presets: {', '.join(known)}")
    return read_yaml_file(path) or {}


def _merge(base: dict, extra: dict) -> dict:
    """Deep-merge `extra` into a copy of `base` (dicts merge, everything else replaces)."""
    out = copy.deepcopy(base)
    for k, v in (extra or {}).items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def _method_layer(data: dict, method: str) -> dict:
    """A preset/file may hold `methods: {dpo: {...}}` sections that apply to one method only."""
    data = dict(data or {})
    per_method = data.pop("methods", {}) or {}
    return _merge(data, per_method.get(method, {}))


def parse_overrides(tokens: list[str]) -> dict:
    """Turn `--a.b value` / `--flag` tokens into a nested dict; values are parsed as YAML scalars."""
    out: dict = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not tok.startswith("--") or len(tok) == 2:
            raise InputError(f"unexpected argument {tok!r}; overrides look like --trl.learning_rate 1e-5")
        key, eq, value = tok[2:].partition("=")
        if not eq:
            if i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                value, i = tokens[i + 1], i + 1
            else:
                value = "true"
        node = out
        parts = key.replace("-", "_").split(".") if not key.startswith("trl.") else \
            ["trl", key[4:].replace("-", "_")]
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = parse_value(value)
        i += 1
    return out


def _check_keys(data: dict, allowed, where: str, known_hint: str | None = None) -> None:
    for key in data:
        if key not in allowed:
            hint = difflib.get_close_matches(key, list(allowed), n=1)
            raise InputError(f"unknown {where} option {key!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                             + "; " + (known_hint or f"known: {', '.join(sorted(allowed))}"))


def build_config(method: str, *, config_file: str | None = None, preset: str | None = None,
                 overrides: dict | None = None) -> TrainConfig:
    """Compose preset → file → overrides into a validated TrainConfig."""
    if method not in METHODS:
        raise InputError(f"unknown training method {method!r}; choose one of {', '.join(METHODS)}")
    file_data: dict = {}
    if config_file:
        file_data = read_yaml_file(config_file) or {}
        if not isinstance(file_data, dict):
            raise InputError("a training config must be a YAML mapping", path=str(config_file))
    preset = preset or file_data.pop("preset", None) or (overrides or {}).get("preset")
    data = _method_layer(load_preset(preset), method) if preset else {}
    data = _merge(data, _method_layer(file_data, method))
    data = _merge(data, {k: v for k, v in (overrides or {}).items() if k != "preset"})
    return config_from_dict(method, data)


def config_from_dict(method: str, data: dict) -> TrainConfig:
    """Validate a plain dict (own fields + `trl`) into a TrainConfig; TRL names are checked too."""
    data = dict(data)
    data.pop("method", None)
    own = {f.name for f in dataclasses.fields(TrainConfig)} - {"method"}
    _check_keys(data, own, "training")
    for name, cls in _NESTED.items():
        section = data.get(name) or {}
        if isinstance(section, cls):
            continue
        if name in ("lora", "qlora") and isinstance(section, bool):  # --lora false, --qlora
            section = {"enabled": section}
        _check_keys(section, {f.name for f in dataclasses.fields(cls)}, name)
        data[name] = cls(**check_fields(cls, section, name))
    if isinstance(data.get("rewards"), str):
        data["rewards"] = [data["rewards"]]
    config = TrainConfig(method=method, **check_fields(TrainConfig, data, "training"))
    check_trl_args(method, config.trl)
    check_qlora(config)
    return config


def check_qlora(config: TrainConfig) -> None:
    """QLoRA needs LoRA, a method that trains adapters on a causal LM, and known quantisation settings."""
    q = config.qlora
    if not q.enabled:
        return
    if config.method not in QLORA_METHODS:
        raise InputError(f"--qlora is supported for {', '.join(QLORA_METHODS)}, not {config.method}", field="qlora")
    if not config.lora.enabled:
        raise InputError("--qlora trains LoRA adapters on a frozen 4-bit base; it needs lora.enabled true "
                         "(drop --lora.enabled false)", field="qlora")
    if q.quant_type not in ("nf4", "fp4"):
        raise InputError(f"must be nf4 or fp4, not {q.quant_type!r}", field="qlora.quant_type")
    for name in ("compute_dtype", "adapter_dtype"):
        if getattr(q, name) not in DTYPE_CHOICES:
            raise InputError(f"must be one of {', '.join(DTYPE_CHOICES)}, not {getattr(q, name)!r}", field=f"qlora.{name}")


def check_trl_args(method: str, trl_args: dict) -> None:
    """Refuse argument names the method's TRL config class does not have."""
    from .trl_compat import config_class
    cls = config_class(method)
    _check_keys(trl_args, {f.name for f in dataclasses.fields(cls)}, f"trl ({cls.__name__})",
                f"list them with: alignsmith train {method} --list-trl-args")


def trl_config(config: TrainConfig, output_dir: str, **defaults: Any):
    """Instantiate TRL's config class: our defaults, then the user's `trl:` section, then seed/output_dir."""
    from .trl_compat import config_class
    cls = config_class(config.method)
    kwargs = {**defaults, **config.trl, "output_dir": output_dir}
    kwargs.setdefault("seed", config.seed)
    if kwargs.get("bf16") == "auto":  # bf16 autocast only where the hardware has it (AVX2 CPUs emulate it)
        from alignsmith.curate.core.hardware import native_bf16
        kwargs["bf16"] = native_bf16()
    if not _cuda_available():
        # CPU: bf16 is TRL's default but slow or unsupported here; checkpointing only costs time.
        kwargs.setdefault("bf16", False)
        kwargs.setdefault("gradient_checkpointing", False)
        kwargs.setdefault("use_cpu", True)
    kwargs.setdefault("report_to", "none")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise InputError(f"invalid trl arguments for {cls.__name__}: {e}") from e


def _cuda_available() -> bool:
    import torch
    return torch.cuda.is_available()
