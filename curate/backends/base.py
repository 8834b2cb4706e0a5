"""The generation backend interface: n completions per prompt, in input order."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import ClassVar, Iterable, Iterator, Sequence

from ..core.records import Messages
from ..core.registry import Registry


@dataclass
class GenParams:
    """Sampling parameters; recorded in every run's config."""

    n: int = 4
    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 256
    seed: int = 0
    stop: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Completion:
    """One sampled answer."""

    text: str
    finish_reason: str  # "stop", "length", or "skipped: <why>" (e.g. prompt longer than the context)
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Backend:
    """Base class: a subclass implements `stream` (engines that keep a batch full: vLLM, HTTP) or `generate`
    (engines that sample a list at a time: transformers); the base class builds the other from it."""

    name: ClassVar[str]

    def __init__(self, model: str, **options):
        self.model = model
        self.options = options

    # How many prompts the default `stream` hands to `generate` at a time.
    stream_chunk: ClassVar[int] = 16

    def generate(self, prompts: Sequence[Messages], params: GenParams) -> list[list[Completion]]:
        """Return `params.n` completions for each prompt, in input order (collected from `stream`)."""
        if type(self).stream is Backend.stream:
            raise NotImplementedError(f"{type(self).__name__} implements neither generate nor stream")
        results: list[list[Completion] | None] = [None] * len(prompts)
        for i, completions in self.stream(prompts, params):
            results[i] = completions
        return results  # type: ignore[return-value]

    def stream(self, prompts: Iterable[Messages], params: GenParams) -> Iterator[tuple[int, list[Completion]]]:
        """Yield `(input index, completions)` as prompts finish, in any order.

        The prompts iterable is read lazily, so callers can feed millions of prompts without holding them
        all in the engine. The default calls `generate` on consecutive chunks; engines that can keep a
        batch full across chunk boundaries (vLLM, HTTP) override it.
        """
        chunk: list[Messages] = []
        start = 0
        for messages in prompts:
            chunk.append(messages)
            if len(chunk) >= self.stream_chunk:
                yield from enumerate(self.generate(chunk, params), start)
                start, chunk = start + len(chunk), []
        if chunk:
            yield from enumerate(self.generate(chunk, params), start)

    def choose(self, prompts: Sequence[Messages], options: Sequence[str], *, seed: int = 0) -> list:
        """One of `options` per prompt by structured output, with each option's probability where the
        engine gives logprobs (a list of `backends.choice.Choice`). Backends that cannot constrain their
        output raise NotImplementedError; callers then generate freely and parse strictly."""
        raise NotImplementedError(f"the {getattr(self, 'name', type(self).__name__)} backend has no structured output")

    def close(self) -> None:
        """Release engines, threads or sessions."""


# Built-in backends by name, imported on first use: heavy engines (vLLM, torch) load only when their backend
# is asked for, and this contract never imports its implementations.
BUILTIN_BACKENDS = {"vllm": "alignsmith.curate.backends.vllm_backend:VLLMBackend",
                    "hf": "alignsmith.curate.backends.hf_backend:HFBackend",
                    "openai": "alignsmith.curate.backends.openai_backend:OpenAIBackend"}
BACKENDS: Registry[type[Backend]] = Registry("backend", BUILTIN_BACKENDS)


def get_backend(name: str, model: str, **options) -> Backend:
    """Construct a registered backend by name (importing its module on first use)."""
    return BACKENDS.get(name)(model, **options)


def check_backend_name(name: str) -> None:
    """Refuse an unknown backend name before anything is created or loaded (lists every known name)."""
    known = BACKENDS.names()
    if name not in known:
        import difflib
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        raise ValueError(f"unknown backend {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                         + f"; known: {', '.join(known)}")
