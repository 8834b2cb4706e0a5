"""Log-probability margins of preference pairs: log p(chosen | prompt) - log p(rejected | prompt).

DPO pushes this margin up on its training pairs, so it is the direct check that DPO did its job.
"""
from __future__ import annotations


def completion_logprob(model, tokenizer, prompt: list[dict], completion: list[dict]) -> float:
    """Sum of the token log-probabilities of `completion` after the chat-formatted `prompt`."""
    import torch
    prompt_ids = list(tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                                    return_dict=False))
    full_ids = list(tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=False))
    if full_ids[:len(prompt_ids)] != prompt_ids:
        # Some templates render the last turn differently; then score the bare completion text.
        full_ids = prompt_ids + tokenizer(completion[-1]["content"], add_special_tokens=False)["input_ids"]
    device = next(model.parameters()).device
    ids = torch.tensor([full_ids], device=device)
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1].float()
    logps = torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:, None])[:, 0]
    return float(logps[len(prompt_ids) - 1:].sum())


def preference_margins(model, tokenizer, rows: list[dict]) -> list[float]:
    """Per pair: log p(chosen) - log p(rejected), both given the prompt (rows in TRL conversational form)."""
    was_training = model.training
    model.eval()
    try:
        return [completion_logprob(model, tokenizer, r["prompt"], r["chosen"])
                - completion_logprob(model, tokenizer, r["prompt"], r["rejected"]) for r in rows]
    finally:
        model.train(was_training)
