"""vLLM's offline engine: the default backend."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..core.records import Messages
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
    if os.environ.get("ALIGNSMITH_QUIET_LOGS") == "1":
        # Set by `alignsmith demo` without --verbose. With vLLM's logging configuration off its warnings reach
        # stderr bare through Python's last-resort handler (VLLM_LOGGING_LEVEL does not apply), e.g. one
        # "Attempted to load weight … float32 into … bfloat16" line per tensor of a float32 checkpoint.
        import logging
        logging.getLogger("vllm").setLevel(logging.ERROR)
    # Keep the engine in this process: no spawned workers re-importing the caller's __main__.
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")


def _on_cpu() -> bool:
    import torch
    return not torch.cuda.is_available()


@BACKENDS.register("vllm")
class VLLMBackend(Backend):
    """One engine kept busy across shards: requests are added as others finish, with per-prompt seeds.

    options: max_model_len (2048), dtype ("auto": bfloat16 where the GPU or CPU has it natively, float32 on
    other CPUs, see core/hardware.py), max_inflight (prompts queued in the engine at once;
    default 4 x the engine's max_num_seqs), engine_args (extra `vllm.LLM` keyword arguments), workdir.
    """

    name = "vllm"

    def __init__(self, model: str, max_model_len: int = 2048, dtype: str = "auto", **options):
        super().__init__(model, **options)
        prepare_vllm_env(options.get("workdir"))
        from vllm import LLM

        from ..core.hardware import resolve_dtype
        from ..core.models import resolve_model
        path = resolve_model(model)
        self.dtype = resolve_dtype(dtype)
        engine_args = dict(model=path, dtype=self.dtype, max_model_len=max_model_len, seed=0,
                           trust_remote_code=False)
        if _on_cpu():
            # Eager mode avoids long compiles on CPU; per-request seeds need chunked prefill off.
            engine_args.update(enforce_eager=True, enable_chunked_prefill=False)
        engine_args.update(options.get("engine_args") or {})
        self.llm = LLM(**engine_args)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_len = max_model_len
        max_seqs = self.llm.llm_engine.vllm_config.scheduler_config.max_num_seqs
        self.max_inflight = int(options.get("max_inflight") or 4 * max_seqs)
        self._streams = 0  # makes request ids unique across calls

    def stream(self, prompts: Iterable[Messages], params: GenParams) -> Iterator[tuple[int, list[Completion]]]:
        """Feed the engine from `prompts`, keeping up to `max_inflight` queued, and yield each as it ends.

        `LLM.generate` drains its batch before returning, so calling it per shard leaves the engine
        half-empty at every shard's tail; driving `LLMEngine.step` directly keeps it full.
        """
        engine = self.llm.llm_engine
        self._streams += 1
        source = enumerate(prompts)
        inflight: dict[str, int] = {}
        exhausted = False
        try:
            while True:
                while not exhausted and len(inflight) < self.max_inflight:
                    nxt = next(source, None)
                    if nxt is None:
                        exhausted = True
                        break
                    skipped = self._add(engine, inflight, nxt[0], nxt[1], params)
                    if skipped is not None:
                        yield nxt[0], skipped
                if not inflight:
                    return
                for out in engine.step():
                    if out.finished and out.request_id in inflight:
                        index = inflight.pop(out.request_id)
                        n_prompt = len(out.prompt_token_ids or [])
                        yield index, [Completion(o.text, o.finish_reason or "stop", n_prompt, len(o.token_ids))
                                      for o in sorted(out.outputs, key=lambda o: o.index)]
        finally:
            if inflight:  # the caller stopped early (error, Ctrl-C): free the engine for the next call
                engine.abort_request(list(inflight))

    def _add(self, engine, inflight: dict[str, int], index: int, messages: Messages,
             params: GenParams) -> list[Completion] | None:
        """Queue one prompt; return its skipped completions instead when it cannot fit the context."""
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind
        ids = render_prompt_ids(self.tokenizer, messages)
        if len(ids) >= self.max_len:
            why = f"skipped: prompt has {len(ids)} tokens, model context is {self.max_len}"
            return [Completion("", why, len(ids), 0) for _ in range(params.n)]
        sampling = SamplingParams(n=params.n, temperature=params.temperature, top_p=params.top_p,
                                  max_tokens=min(params.max_tokens, self.max_len - len(ids)),
                                  seed=request_seed(params.seed, messages), stop=params.stop or None,
                                  # one output per prompt, with all n samples, when the last one ends
                                  output_kind=RequestOutputKind.FINAL_ONLY)
        request_id = f"as-{self._streams}-{index}"
        engine.add_request(request_id, {"prompt_token_ids": ids}, sampling)
        inflight[request_id] = index
        return None

    def choose(self, prompts: Sequence[Messages], options: Sequence[str], *, seed: int = 0) -> list:
        """Guided choice with the options' first-token logprobs (see backends.choice)."""
        from .choice import vllm_choose
        return vllm_choose(self, prompts, options, seed)

    def close(self) -> None:
        import gc
        self.llm = None
        gc.collect()
