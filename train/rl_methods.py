"""Online routes: PPO (classic RLHF: reward model + value model + KL to the SFT reference) and GRPO
(group-relative advantages; rewards from a reward model and/or the shared verifiers)."""
from __future__ import annotations

import json

from alignsmith.curate.core.errors import InputError

from .config import TrainConfig, trl_config
from .methods import _prepare, _train
from .runner import TrainResult, finish, load_causal_lm, load_sequence_classifier, load_tokenizer, lora_config
from .trl_compat import fix_ppo_trainer, import_trl, ppo_classes

REWARD_SOURCES = ("verifiers", "reward_model")


def train_ppo(config: TrainConfig, callbacks: list | None = None) -> TrainResult:
    """PPO from TRL 1.12's experimental package: the policy starts from `model` (the SFT checkpoint), which
    also serves as the KL reference (`trl.kl_coef`); the value model starts from the reward model."""
    _, PPOTrainer = ppo_classes()
    if not config.reward_model:
        raise InputError("ppo needs reward_model: a folder from `alignsmith train rm` (--reward_model PATH)")
    reward = load_sequence_classifier(config.reward_model)
    value = load_sequence_classifier(config.value_model or config.reward_model, what="value model")
    run, dataset = _prepare(config, "ppo", callbacks)
    # Rollouts generate after the prompt, so prompts are padded on the left.
    tokenizer = load_tokenizer(run.base_model, padding_side="left")
    dataset = dataset.map(lambda row: {"input_ids": tokenizer.apply_chat_template(
        row["prompt"], add_generation_prompt=True, tokenize=True, return_dict=False)},
        remove_columns=dataset.column_names)
    check_same_vocabulary(reward, tokenizer, config.reward_model)
    args = trl_config(config, run.output_dir, stop_token="eos", sft_model_path=run.base_model,
                      reward_model_path=config.reward_model)
    policy = load_causal_lm(run.base_model)
    peft = lora_config(config, "CAUSAL_LM")
    # With LoRA the reference is the policy with its adapter switched off; otherwise TRL copies the policy.
    trainer = PPOTrainer(args=args, processing_class=tokenizer, model=policy, ref_model=None, reward_model=reward,
                         value_model=value, train_dataset=dataset, peft_config=peft, callbacks=run.callbacks())
    fix_ppo_trainer(trainer)
    trainer.train()  # TRL's PPO loop takes no resume argument
    return finish(run, trainer, tokenizer)


def check_same_vocabulary(reward_model, tokenizer, path: str) -> None:
    """PPO feeds the policy's token ids straight to the reward model: their vocabularies must agree."""
    rows = reward_model.get_input_embeddings().num_embeddings
    if rows < len(tokenizer):
        raise InputError(f"reward model {path!r} has {rows} token embeddings but the policy's tokenizer has "
                         f"{len(tokenizer)} tokens; PPO needs a reward model trained from the same base model")


def verifier_reward(prompts, completions, instruction_id_list, constraint_kwargs, **_) -> list[float]:
    """GRPO reward: the fraction of a prompt's verifiable constraints the completion meets (0..1)."""
    from alignsmith.curate.core.records import prompt_text
    from alignsmith.curate.verifiers import verify
    rewards = []
    for prompt, completion, ids, kwargs_json in zip(prompts, completions, instruction_id_list, constraint_kwargs):
        text = completion[-1]["content"] if isinstance(completion, list) else completion
        verdicts = verify(list(ids), json.loads(kwargs_json), text, prompt=prompt_text(prompt), mode="strict")
        rewards.append(sum(map(bool, verdicts)) / len(verdicts) if verdicts else 0.0)
    return rewards


def grpo_rewards(config: TrainConfig, tokenizer) -> tuple[list, list | None]:
    """(reward_funcs, reward_processing_classes) for GRPOTrainer from `config.rewards`."""
    unknown = [r for r in config.rewards if r not in REWARD_SOURCES]
    if unknown or not config.rewards:
        raise InputError(f"unknown grpo reward source(s) {unknown}; use any of {', '.join(REWARD_SOURCES)}")
    funcs, processors = [], []
    for source in config.rewards:
        if source == "verifiers":
            funcs.append(verifier_reward)
            processors.append(None)
        else:
            if not config.reward_model:
                raise InputError("rewards includes reward_model but no reward_model folder was given")
            rm = load_sequence_classifier(config.reward_model)
            rm.config.pad_token_id = tokenizer.pad_token_id
            funcs.append(rm)
            processors.append(tokenizer)
    return funcs, processors


def train_grpo(config: TrainConfig, callbacks: list | None = None) -> TrainResult:
    """GRPO on prompts: each prompt is sampled `trl.num_generations` times and rewarded by the verifiers
    (fraction of constraints met) and/or a reward model."""
    trl = import_trl()
    run, dataset = _prepare(config, "grpo", callbacks, need_verifier_columns="verifiers" in config.rewards)
    tokenizer = load_tokenizer(run.base_model, padding_side="left")
    funcs, processors = grpo_rewards(config, tokenizer)
    args = trl_config(config, run.output_dir, use_vllm=False)
    trainer = trl.GRPOTrainer(model=load_causal_lm(run.base_model), reward_funcs=funcs, args=args,
                              train_dataset=dataset, processing_class=tokenizer,
                              reward_processing_classes=processors, peft_config=lora_config(config, "CAUSAL_LM"),
                              callbacks=run.callbacks())
    _train(run, trainer)
    return finish(run, trainer, tokenizer)



def train(config: TrainConfig, callbacks: list | None = None) -> TrainResult:
    """Run the training method named by `config.method` (extra TrainerCallbacks may be passed)."""
    from .methods import train_dpo, train_rm, train_sft
    return {"sft": train_sft, "rm": train_rm, "dpo": train_dpo, "ppo": train_ppo, "grpo": train_grpo}[
        config.method](config, callbacks)
