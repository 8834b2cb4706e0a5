"""Supervised routes: SFT, reward model and DPO, each a plain function a Python user can call."""
from __future__ import annotations

from .config import TrainConfig
from .data import load_training_rows, to_dataset
from .runner import (
    TrainingRun,
    TrainResult,
    finish,
    load_causal_lm,
    load_sequence_classifier,
    load_tokenizer,
    lora_config,
)
from .trl_compat import import_trl


def _prepare(config: TrainConfig, method: str, callbacks: list | None = None,
             **row_options) -> tuple[TrainingRun, object]:
    if config.method != method:
        raise ValueError(f"config is for {config.method!r}, not {method!r}")
    from alignsmith.curate.core.run_state import input_fingerprint
    rows, info = load_training_rows(config.dataset, method, max_rows=config.max_rows, **row_options)
    run = TrainingRun(config, callbacks, inputs=[input_fingerprint(info.path)])
    run.dataset_info = info
    return run, to_dataset(rows)


def _train(run: TrainingRun, trainer) -> None:
    from .quiet import quiet_requested, quiet_trainer
    if quiet_requested():
        quiet_trainer(trainer)
    if run.config.qlora.enabled:
        from .qlora import set_adapter_dtype
        set_adapter_dtype(trainer.model, run.config.qlora)
    trainer.train(resume_from_checkpoint=True if run.resume_checkpoint() else None)


def _policy(run: TrainingRun, args):
    """The model to train: full precision, or with --qlora a frozen 4-bit base (LoRA is added by TRL)."""
    if run.config.qlora.enabled:
        from .qlora import load_quantized_causal_lm
        return load_quantized_causal_lm(run.base_model, run.config.qlora,
                                        gradient_checkpointing=bool(args.gradient_checkpointing))
    return load_causal_lm(run.base_model)


def train_sft(config: TrainConfig, callbacks: list | None = None) -> TrainResult:
    """Supervised fine-tuning on prompt/completion rows; the loss covers the completion tokens only."""
    from .config import trl_config
    trl = import_trl()
    run, dataset = _prepare(config, "sft", callbacks)
    tokenizer = load_tokenizer(run.base_model)
    args = trl_config(config, run.output_dir, completion_only_loss=True)
    trainer = trl.SFTTrainer(model=_policy(run, args), args=args, train_dataset=dataset,
                             processing_class=tokenizer, peft_config=lora_config(config, "CAUSAL_LM"),
                             callbacks=run.callbacks())
    _train(run, trainer)
    return finish(run, trainer, tokenizer)


def train_rm(config: TrainConfig, callbacks: list | None = None) -> TrainResult:
    """A reward model (sequence classifier, one output) on chosen/rejected pairs; saved merged."""
    from .config import trl_config
    trl = import_trl()
    run, dataset = _prepare(config, "rm", callbacks)
    tokenizer = load_tokenizer(run.base_model)
    model = load_sequence_classifier(run.base_model, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    args = trl_config(config, run.output_dir)
    trainer = trl.RewardTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                                peft_config=lora_config(config, "SEQ_CLS"), callbacks=run.callbacks())
    _train(run, trainer)
    # PPO, GRPO and the reward_model scorer load a plain folder, so the result is always merged.
    return finish(run, trainer, tokenizer, always_merge=True)


def train_dpo(config: TrainConfig, callbacks: list | None = None) -> TrainResult:
    """DPO on chosen/rejected pairs: with LoRA the frozen base is the reference (no copy); without LoRA the
    reference log-probabilities are computed once before training, so no second model stays in memory."""
    from .config import trl_config
    trl = import_trl()
    run, dataset = _prepare(config, "dpo", callbacks)
    tokenizer = load_tokenizer(run.base_model)
    defaults = {} if config.lora.enabled else {"precompute_ref_log_probs": True}
    args = trl_config(config, run.output_dir, **defaults)
    trainer = trl.DPOTrainer(model=_policy(run, args), ref_model=None, args=args,
                             train_dataset=dataset, processing_class=tokenizer,
                             peft_config=lora_config(config, "CAUSAL_LM"), callbacks=run.callbacks())
    _train(run, trainer)
    return finish(run, trainer, tokenizer)
