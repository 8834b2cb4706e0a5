"""transformers `generate`: for machines without vLLM and for fast unit tests on tiny models."""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

from ..core.records import Messages
from .base import BACKENDS, Backend, Completion, GenParams
from .chat import context_limit, render_prompt_ids, request_seed


@BACKENDS.register("hf")
class HFBackend(Backend):
    """Samples with `model.generate`, one prompt at a time (n sequences each), yielding each as it is done."""

    name = "hf"

    def __init__(self, model: str, dtype: str = "float32", **options):
        super().__init__(model, **options)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from ..core.models import resolve_model
        path = resolve_model(model)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.lm = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
        self.lm.eval()
        self.max_len = options.get("max_model_len") or context_limit(self.lm.config) or 2048

    def stream(self, prompts: Iterable[Messages], params: GenParams) -> Iterator[tuple[int, list[Completion]]]:
        """Sample each prompt in turn and yield it as soon as it is done (`generate` collects these)."""
        for index, messages in enumerate(prompts):
            yield index, self._sample(messages, params)

    def _sample(self, messages: Messages, params: GenParams) -> list[Completion]:
        import torch
        eos = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos
        ids = render_prompt_ids(self.tokenizer, messages)
        if len(ids) >= self.max_len:
            why = f"skipped: prompt has {len(ids)} tokens, model context is {self.max_len}"
            return [Completion("", why, len(ids), 0) for _ in range(params.n)]
        torch.manual_seed(request_seed(params.seed, messages))
        budget = min(params.max_tokens, self.max_len - len(ids))
        with torch.no_grad():
            out = self.lm.generate(
                torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                do_sample=params.temperature > 0, temperature=params.temperature or None,
                top_p=params.top_p if params.temperature > 0 else None,
                max_new_tokens=budget, num_return_sequences=params.n, pad_token_id=pad,
                eos_token_id=eos)
        return [self._completion(seq[len(ids):].tolist(), len(ids), budget, eos, params.stop) for seq in out]

    def choose(self, prompts: Sequence[Messages], options: Sequence[str], *, seed: int = 0) -> list:
        """The option whose first token is most likely, with the options' probabilities (backends.choice)."""
        from .choice import hf_choose
        return hf_choose(self, prompts, options)

    def _completion(self, new_ids: list[int], n_prompt: int, budget: int, eos, stop: list[str]) -> Completion:
        pad = self.tokenizer.pad_token_id
        ended = eos is not None and eos in new_ids
        if ended:
            new_ids = new_ids[:new_ids.index(eos)]
        if pad is not None and pad != eos:
            new_ids = [t for t in new_ids if t != pad]
        text = self.tokenizer.decode(new_ids, skip_special_tokens=True)
        for s in stop:
            if s in text:
                text, ended = text[:text.index(s)], True
        reason = "stop" if ended or len(new_ids) < budget else "length"
        return Completion(text, reason, n_prompt, len(new_ids))
