"""Structured output for judges: each reply is forced to be one of a fixed set of strings (e.g. "A" / "B",
"REFUSAL" / "COMPLIANCE"), with the probability of each option when the engine exposes token logprobs.

- vLLM (offline engine): guided decoding (`StructuredOutputsParams(choice=...)`) plus the logprobs of each
  option's first token (`logprob_token_ids`; vLLM reports them before the guide's mask, i.e. the model's
  own preference between the options).
- transformers: one forward pass; the option whose first token has the highest logit is the reply, and the
  softmax over the options' first-token logits gives the probabilities (constrained decoding of one token).
- OpenAI-compatible servers: vLLM's `structured_outputs: {choice: [...]}` extra body (or, for servers that
  only know the OpenAI API, a JSON schema with an enum, `structured="json_schema"`), and `top_logprobs`.

Probabilities need options whose first tokens differ; otherwise `probs` is None and only the choice is known.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Sequence

from ..core.records import Messages


@dataclass
class Choice:
    """One constrained reply: the chosen option ('' when the prompt could not be run) and its probabilities."""

    text: str
    probs: dict[str, float] | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


def first_token_ids(tokenizer, options: Sequence[str]) -> dict[str, int] | None:
    """Each option's first token id when the first tokens are all different (else None)."""
    ids = {}
    for option in options:
        tokens = tokenizer.encode(option, add_special_tokens=False)
        if not tokens:
            return None
        ids[option] = tokens[0]
    return ids if len(set(ids.values())) == len(ids) else None


def normalise(logprobs: dict[str, float]) -> dict[str, float]:
    """Softmax over the options' log-probabilities (the probability of each, given that one is chosen)."""
    top = max(logprobs.values())
    weights = {k: math.exp(v - top) for k, v in logprobs.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


def vllm_choose(backend, prompts: Sequence[Messages], options: Sequence[str], seed: int) -> list[Choice]:
    """Guided choice through the offline vLLM engine of a VLLMBackend."""
    from vllm import SamplingParams
    from vllm.sampling_params import StructuredOutputsParams

    from .chat import render_prompt_ids
    tok = backend.tokenizer
    first = first_token_ids(tok, options)
    longest = max(len(tok.encode(o, add_special_tokens=False)) for o in options)
    params = SamplingParams(temperature=0.0, max_tokens=longest + 1, seed=seed,
                            structured_outputs=StructuredOutputsParams(choice=list(options)),
                            logprobs=len(first) if first else None,
                            logprob_token_ids=list(first.values()) if first else None)
    results: list[Choice | None] = [None] * len(prompts)
    runnable, inputs = [], []
    for i, messages in enumerate(prompts):
        ids = render_prompt_ids(tok, messages)
        if len(ids) + longest + 1 > backend.max_len:
            results[i] = Choice("", None, len(ids), 0, f"prompt has {len(ids)} tokens, context {backend.max_len}")
            continue
        runnable.append(i)
        inputs.append({"prompt_token_ids": ids})
    outputs = backend.llm.generate(inputs, params, use_tqdm=False) if inputs else []
    for i, out in zip(runnable, outputs):
        o = out.outputs[0]
        probs = None
        if first and o.logprobs:
            step = o.logprobs[0]
            found = {opt: step[t].logprob for opt, t in first.items() if t in step}
            probs = normalise(found) if len(found) == len(first) else None
        results[i] = Choice(o.text.strip(), probs, len(out.prompt_token_ids or []), len(o.token_ids))
    return results  # type: ignore[return-value]


def hf_choose(backend, prompts: Sequence[Messages], options: Sequence[str]) -> list[Choice]:
    """One forward pass per prompt; the options' first-token logits decide and give the probabilities."""
    import torch

    from .chat import render_prompt_ids
    first = first_token_ids(backend.tokenizer, options)
    if first is None:
        raise NotImplementedError("hf structured choice needs options whose first tokens differ")
    results = []
    for messages in prompts:
        ids = render_prompt_ids(backend.tokenizer, messages)
        if len(ids) >= backend.max_len:
            results.append(Choice("", None, len(ids), 0, f"prompt has {len(ids)} tokens, context {backend.max_len}"))
            continue
        with torch.no_grad():
            logits = backend.lm(torch.tensor([ids])).logits[0, -1].float()
        logprobs = torch.log_softmax(logits, dim=-1)
        probs = normalise({opt: float(logprobs[t]) for opt, t in first.items()})
        results.append(Choice(max(probs, key=probs.get), probs, len(ids), 1))
    return results


def openai_request_fields(options: Sequence[str], structured: str) -> dict:
    """Extra request fields that force one of `options` and ask for the first token's top logprobs."""
    if structured == "json_schema":
        schema = {"type": "object", "properties": {"verdict": {"type": "string", "enum": list(options)}},
                  "required": ["verdict"], "additionalProperties": False}
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": "verdict", "schema": schema, "strict": True}}}
    if structured == "vllm":
        return {"structured_outputs": {"choice": list(options)}, "logprobs": True, "top_logprobs": 20}
    raise ValueError(f"structured output mode {structured!r} is unknown; use 'vllm' or 'json_schema'")


def openai_parse_choice(data: dict, options: Sequence[str], structured: str) -> Choice:
    """The chosen option (and option probabilities from the first token's top logprobs) from a reply."""
    usage = data.get("usage") or {}
    choice = (data.get("choices") or [{}])[0]
    text = ((choice.get("message") or {}).get("content") or "").strip()
    if structured == "json_schema":
        try:
            text = str(json.loads(text).get("verdict", ""))
        except (json.JSONDecodeError, AttributeError):
            text = ""
    error = None if text in options else f"reply {text[:60]!r} is not one of {list(options)}"
    probs = None
    content = (choice.get("logprobs") or {}).get("content") or []
    if content and structured == "vllm":
        tops = {t.get("token", "").strip(): t.get("logprob") for t in content[0].get("top_logprobs") or []}
        found = {o: tops[o] for o in options if tops.get(o) is not None}
        probs = normalise(found) if len(found) == len(options) else None
    return Choice(text if error is None else "", probs, usage.get("prompt_tokens", 0),
                  usage.get("completion_tokens", 0), error)
