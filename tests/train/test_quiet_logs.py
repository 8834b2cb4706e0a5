"""Issue 13 (newcomer friction): the demo keeps progress bars but drops the trainer's raw log dicts."""

from alignsmith.train.quiet import QUIET_ENV, quiet_environment, quiet_requested, quiet_trainer


def _train_tiny(model_dir, out, quiet, capfd):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    ids = torch.arange(8).tolist()
    data = Dataset.from_list([{"input_ids": ids, "labels": ids}] * 4)
    args = TrainingArguments(output_dir=str(out), max_steps=2, logging_steps=1, per_device_train_batch_size=2,
                             report_to="none", use_cpu=True, save_strategy="no", disable_tqdm=False)
    trainer = Trainer(model=model, args=args, train_dataset=data)
    if quiet:
        quiet_trainer(trainer)
    capfd.readouterr()
    trainer.train()
    captured = capfd.readouterr()
    return captured.out + captured.err


def test_quiet_trainer_keeps_the_bar_and_drops_log_dicts(tiny_llama, tmp_path, capfd):
    loud = _train_tiny(tiny_llama, tmp_path / "a", False, capfd)
    quiet = _train_tiny(tiny_llama, tmp_path / "b", True, capfd)
    assert "'loss'" in loud
    assert "'loss'" not in quiet and "2/2" in quiet  # the progress bar still reaches its end


def test_quiet_environment_respects_verbose(monkeypatch):
    for name in (QUIET_ENV, "VLLM_LOGGING_LEVEL", "TRANSFORMERS_VERBOSITY"):
        monkeypatch.delenv(name, raising=False)
    quiet_environment(verbose=True)
    assert not quiet_requested()
    monkeypatch.delenv("VLLM_LOGGING_LEVEL")
    quiet_environment(verbose=False)
    import os
    assert quiet_requested() and os.environ["VLLM_LOGGING_LEVEL"] == "ERROR"


def test_vllm_warnings_are_lowered_only_when_quiet_is_asked(monkeypatch, tmp_path):
    import logging

    from alignsmith.curate.backends.vllm_backend import prepare_vllm_env
    logger = logging.getLogger("vllm")
    old = logger.level
    try:
        logger.setLevel(logging.NOTSET)
        monkeypatch.delenv(QUIET_ENV, raising=False)
        prepare_vllm_env(tmp_path)
        assert logger.level == logging.NOTSET
        monkeypatch.setenv(QUIET_ENV, "1")
        prepare_vllm_env(tmp_path)
        assert logger.level == logging.ERROR
    finally:
        logger.setLevel(old)
