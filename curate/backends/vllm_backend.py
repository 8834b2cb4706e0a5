"""vLLM's offline engine: the default backend."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ..records import Messages
from .base import BACKENDS, Backend, Completion, GenParams
from .chat import render_prompt_ids, request_seed


def prepare_vllm_env(workdir: str | os.PathLike | None = None) -> None:
    """Environment vLLM needs on this kind of machine; user-set values win."""
    base = Path(workdir or Path.home() / ".cache" / "alignsmith" / "vllm")
    (base / "rpc").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_RPC_BASE_PATH", str(base / "rpc"))
    os.environ.setdefault("VLLM_CACHE_ROOT", str(base / "cache"))
    os.environ.setdefault("VLLM_CONFIGURE_LOGGING", "0")
    # Keep the engine in this process: no spawned workers re-importing the caller's __main__.
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")


def _on_cpu() -> bool:
    import torch
    return not torch.cuda.is_available()


@BACKENDS.register("vllm")
class VLLMBackend(Backend):
    """Batches every prompt into one `LLM.generate` call, with per-prompt seeds."""

    name = "vllm"

    def __init__(self, model: str, max_model_len: int = 2048, dtype: str = "bfloat16", **options):
        super().__init__(model, **options)
        prepare_vllm_env(options.get("workdir"))
        from vllm import LLM

        from ..models import resolve_model
        path = resolve_model(model)
        engine_args = dict(model=path, dtype=dtype, max_model_len=max_model_len, seed=0,
                           trust_remote_code=False)
        if _on_cpu():
            # Eager mode avoids long compiles on CPU; per-request seeds need chunked prefill off.
            engine_args.update(enforce_eager=True, enable_chunked_prefill=False)
        engine_args.update(options.get("engine_args") or {})
        self.llm = LLM(**engine_args)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_len = max_model_len

    def generate(self, prompts: Sequence[Messages], params: GenParams,
                 use_tqdm: bool = False) -> list[list[Completion]]:
        from vllm import SamplingParams
        results: list[list[Completion] | None] = [None] * len(prompts)
        requests, sampling, index = [], [], []
        for i, messages in enumerate(prompts):
            ids = render_prompt_ids(self.tokenizer, messages)
            if len(ids) >= self.max_len:
                why = f"skipped: prompt has {len(ids)} tokens, model context is {self.max_len}"
                results[i] = [Completion("", why, len(ids), 0) for _ in range(params.n)]
                continue
            requests.append({"prompt_token_ids": ids})
            sampling.append(SamplingParams(
                n=params.n, temperature=params.temperature, top_p=params.top_p,
                max_tokens=min(params.max_tokens, self.max_len - len(ids)),
                seed=request_seed(params.seed, messages), stop=params.stop or None))
            index.append(i)
        if requests:
            outputs = self.llm.generate(requests, sampling, use_tqdm=use_tqdm)
            for i, out in zip(index, outputs):
                n_prompt = len(out.prompt_token_ids or [])
                results[i] = [Completion(o.text, o.finish_reason or "stop", n_prompt, len(o.token_ids))
                              for o in out.outputs]
        return results  # type: ignore[return-value]

    def close(self) -> None:
        import gc
        self.llm = None
        gc.collect()
