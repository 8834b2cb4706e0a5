"""What every training method shares: the run folder, model/tokenizer loading, LoRA, saving, the summary."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from alignsmith.curate.core.errors import InputError

from .config import TrainConfig
from .data import DatasetInfo
from .lineage import LineageCallback, lineage_record, write_lineage


@dataclass
class TrainResult:
    """What a training run produced."""

    method: str
    checkpoint: str           # final weights (a PEFT adapter folder when LoRA was used without merging)
    merged: str | None        # full merged weights, loadable by vLLM / AutoModel (None when not asked)
    run_dir: str
    steps: int
    final_loss: float | None
    seconds: float

    def summary(self) -> str:
        """The short summary printed at the end of a run."""
        loss = "n/a" if self.final_loss is None else f"{self.final_loss:.4f}"
        lines = [f"{self.method}: {self.steps} steps, final loss {loss}, {self.seconds:.1f} s",
                 f"checkpoint: {self.checkpoint}"]
        if self.merged:
            lines.append(f"merged:     {self.merged}")
        return "\n".join(lines)


class TrainingRun:
    """One run in progress: its config, folder, base model, dataset info and lineage record."""

    def __init__(self, config: TrainConfig, extra_callbacks: list | None = None, inputs: list[dict] | None = None):
        from alignsmith.curate.core.models import resolve_model
        from alignsmith.curate.core.runs import RunConflictError, RunFolder
        self.config = config
        if config.out is None and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            # Each process would stamp its own new run folder; one shared folder must be named.
            raise InputError("training on several processes (accelerate launch) needs --out FOLDER")
        self.base_model = resolve_model(config.model)
        try:
            # `inputs`: the dataset's fingerprint, so training again on changed data is a changed config.
            recorded = {**config.to_dict(), **({"inputs": inputs} if inputs else {})}
            if RunFolder.finished(f"train-{config.method}", recorded, config.out) is not None:
                raise InputError("this training run already finished here (same config and data); a finished "
                                 "run folder is never rewritten: pass a new --out to train again",
                                 path=str(config.out))
            self.folder = RunFolder.open(f"train-{config.method}", recorded, out=config.out)
        except RunConflictError as e:
            raise InputError(str(e)) from e
        self.output_dir = str(self.folder.path)
        self.dataset_info: DatasetInfo | None = None
        self.extra_callbacks = list(extra_callbacks or [])
        self.started = time.perf_counter()
        seed_everything(config.seed)

    def lineage(self) -> dict:
        """The lineage record every checkpoint of this run gets."""
        info = self.dataset_info.to_dict() if self.dataset_info else None
        return lineage_record(self.config.to_dict(), info, self.base_model, method=self.config.method)

    def callbacks(self) -> list:
        """Lineage in every checkpoint, the optional eval at each save, and any the caller passed."""
        callbacks = [LineageCallback(self.lineage())] + self.extra_callbacks
        ev = self.config.eval
        if ev.prompts and self.config.method != "rm":  # a reward model does not generate text
            from .eval_callback import ConstraintEvalCallback
            callbacks.append(ConstraintEvalCallback(ev.prompts, n_prompts=ev.n_prompts,
                                                    max_tokens=ev.max_tokens, mode=ev.mode))
        return callbacks

    def resume_checkpoint(self) -> bool:
        """Resume from the newest checkpoint when this (unfinished) run folder already has one."""
        return any(Path(self.output_dir).glob("checkpoint-*"))


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (transformers.set_seed covers all three)."""
    from transformers import set_seed
    set_seed(seed)


def load_tokenizer(path: str, padding_side: str = "right"):
    """The model's tokenizer, with a pad token (falls back to EOS) and the given padding side."""
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = padding_side
    return tok


def load_causal_lm(path: str):
    """A causal LM in float32 on CPU (bf16 on CUDA, where TRL's bf16 default applies)."""
    import torch
    from transformers import AutoModelForCausalLM
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype)


def load_sequence_classifier(path: str, *, what: str = "reward model", num_labels: int | None = None):
    """A sequence classifier from a folder; anything else is refused with a clear message."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from alignsmith.curate.core.models import resolve_model
    folder = resolve_model(path)
    if num_labels is None:
        archs = AutoConfig.from_pretrained(folder).architectures or []
        if not any(a.endswith("ForSequenceClassification") for a in archs):
            raise InputError(f"{what} {path!r} is not a sequence classifier (its config.json architectures are "
                             f"{archs or 'missing'}); train one with `alignsmith train rm` and pass that folder")
    kwargs = {"num_labels": num_labels} if num_labels else {}
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=dtype, **kwargs)
    if num_labels is None and model.config.num_labels != 1:
        raise InputError(f"{what} {path!r} has {model.config.num_labels} labels; a reward model has exactly 1")
    return model


def lora_config(config: TrainConfig, task_type: str):
    """A peft LoraConfig from our options, or None when LoRA is off."""
    if not config.lora.enabled:
        return None
    from peft import LoraConfig
    lo = config.lora
    # For SEQ_CLS, peft also trains the new `score` head in full (modules_to_save), as it must.
    return LoraConfig(r=lo.r, lora_alpha=lo.alpha, lora_dropout=lo.dropout, target_modules=lo.target_modules,
                      task_type=task_type)


def final_loss(log_history: list[dict]) -> float | None:
    """The last logged training loss (PPO logs its policy loss under another name)."""
    for key in ("loss", "loss/policy_avg", "train_loss"):  # the last step's loss before the run's mean
        for entry in reversed(log_history):
            if key in entry:
                return float(entry[key])
    return None


def finish(run: TrainingRun, trainer, tokenizer, *, always_merge: bool = False) -> TrainResult:
    """Save final (and merged) weights with lineage, write metrics and DONE, print the summary."""
    from alignsmith.curate.core.runs import metric
    out = Path(run.output_dir)
    final = out / "final"
    trainer.save_model(str(final))  # collective under DeepSpeed: every process calls it
    main_process = trainer.is_world_process_zero()
    merged = None
    if run.config.merge or always_merge:
        # Without LoRA, final/ already holds full weights: point at it rather than write them twice.
        merged = out / "merged" if uses_adapter(trainer) else final
    if main_process:
        tokenizer.save_pretrained(str(final))
        record = run.lineage()
        write_lineage(final, record, step=trainer.state.global_step)
        if merged is not None and merged != final and run.config.qlora.enabled:
            from .qlora import save_merged_dequantized
            save_merged_dequantized(run.base_model, final, merged, run.config.qlora, tokenizer)
        elif merged is not None and merged != final:
            save_merged(trainer, tokenizer, merged)
            write_lineage(merged, record, step=trainer.state.global_step, merged=True)
    seconds = time.perf_counter() - run.started
    loss = final_loss(trainer.state.log_history)
    result = TrainResult(run.config.method, str(merged if always_merge else final),
                         str(merged) if merged else None, run.output_dir, trainer.state.global_step, loss,
                         round(seconds, 2))
    if main_process:
        run.folder.write_metrics({"final_loss": metric(loss, higher_is_better=False),
                                  "steps": metric(result.steps, higher_is_better=None),
                                  "seconds": metric(result.seconds, higher_is_better=False)})
        run.folder.mark_done()
        print(result.summary(), flush=True)
    return result


def uses_adapter(trainer) -> bool:
    """Whether the trained model is a PEFT model (its saved weights are an adapter, not full weights)."""
    model = getattr(trainer.model, "policy", trainer.model)
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel)


def save_merged(trainer, tokenizer, folder: Path) -> Path:
    """Full weights as a plain HF folder: LoRA adapters are merged into a copy of the base weights."""
    model = trainer.model
    model = getattr(model, "policy", model)  # PPO wraps policy and value model
    try:
        from peft import PeftModel
        if isinstance(model, PeftModel):
            import copy
            model = copy.deepcopy(model).merge_and_unload()
    except ImportError:
        pass
    model.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder
