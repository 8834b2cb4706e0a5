"""Any OpenAI-compatible chat endpoint (a vLLM server fleet, a hosted API): concurrent, retried."""
from __future__ import annotations

import itertools
import os
import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Iterable, Iterator, Sequence

from ..core.records import Messages, prompt_id
from .base import BACKENDS, Backend, Completion, GenParams
from .chat import request_seed

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def _retry_after(value: str | None, cap: float = 60.0) -> float:
    """Seconds from a Retry-After header given in seconds (HTTP dates are ignored), capped."""
    try:
        return min(max(float(value), 0.0), cap) if value else 0.0
    except ValueError:
        return 0.0


class GenerationRequestError(RuntimeError):
    """A request failed after its last retry; names the prompt id and the last error."""


@BACKENDS.register("openai")
class OpenAIBackend(Backend):
    """Chat completions over HTTP, round-robin across base URLs, with retries and backoff.

    options: base_url (str or list, default $OPENAI_BASE_URL or http://127.0.0.1:8000/v1), api_key,
    concurrency (16), max_retries (5), timeout (60 s), backoff (0.5 s, doubled each retry, jittered).
    """

    name = "openai"

    def __init__(self, model: str, base_url: str | list[str] | None = None, api_key: str | None = None,
                 concurrency: int = 16, max_retries: int = 5, timeout: float = 60.0, backoff: float = 0.5,
                 **options):
        super().__init__(model, **options)
        import requests
        urls = base_url or os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
        self.urls = [u.rstrip("/") for u in ([urls] if isinstance(urls, str) else urls)]
        self._next_url = itertools.cycle(self.urls)
        self._lock = threading.Lock()
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY", "EMPTY")
        self.concurrency, self.max_retries = concurrency, max_retries
        self.timeout, self.backoff = timeout, backoff
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=len(self.urls), pool_maxsize=concurrency)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _url(self) -> str:
        with self._lock:
            return next(self._next_url)

    def _one(self, messages: Messages, params: GenParams) -> list[Completion]:
        try:
            return self._request(messages, params)
        except GenerationRequestError:
            raise
        except Exception as e:  # a malformed reply: name the prompt rather than fail anonymously in a thread
            raise GenerationRequestError(f"prompt {prompt_id(messages)}: {type(e).__name__}: {e}") from e

    def _request(self, messages: Messages, params: GenParams, extra: dict | None = None, parse=None):
        import requests
        body = {"model": self.model, "messages": messages, "n": params.n, "temperature": params.temperature,
                "top_p": params.top_p, "max_tokens": params.max_tokens,
                "seed": request_seed(params.seed, messages)}
        if params.stop:
            body["stop"] = params.stop
        body.update(extra or {})  # e.g. structured output fields for judges (backends.choice)
        last, attempts = "no attempt", 0
        for attempt in range(self.max_retries + 1):
            attempts, wait_hint = attempts + 1, 0.0
            url = self._url()
            try:
                resp = self.session.post(f"{url}/chat/completions", json=body, timeout=self.timeout,
                                         headers={"Authorization": f"Bearer {self.api_key}"})
                if resp.status_code == 200:
                    return parse(resp.json()) if parse else self._parse(resp.json(), params.n)
                last = f"HTTP {resp.status_code} from {url}: {resp.text[:200]}"
                if resp.status_code == 400 and "context" in resp.text.lower():
                    return [Completion("", f"skipped: {resp.text[:200]}", 0, 0) for _ in range(params.n)]
                if resp.status_code not in RETRY_STATUS:
                    break
                wait_hint = _retry_after(resp.headers.get("Retry-After"))
            except (requests.Timeout, requests.ConnectionError) as e:
                last = f"{type(e).__name__} from {url}: {e}"
            if attempt < self.max_retries:
                # Jitter spreads the retries of many threads so they do not hit a server in step.
                time.sleep(max(wait_hint, self.backoff * (2 ** attempt) * (0.5 + random.random())))
        raise GenerationRequestError(
            f"prompt {prompt_id(messages)}: request failed after {attempts} attempts; last error: {last}")

    @staticmethod
    def _parse(data: dict, n: int) -> list[Completion]:
        usage = data.get("usage") or {}
        choices = sorted(data.get("choices", []), key=lambda c: c.get("index", 0))
        per = (usage.get("completion_tokens") or 0) // max(len(choices), 1)
        out = [Completion(c["message"].get("content") or "", c.get("finish_reason") or "stop",
                          usage.get("prompt_tokens", 0), per) for c in choices]
        if len(out) != n:
            raise GenerationRequestError(f"server returned {len(out)} choices, asked for {n}")
        return out

    def stream(self, prompts: Iterable[Messages], params: GenParams) -> Iterator[tuple[int, list[Completion]]]:
        """Keep `concurrency` requests busy (reading prompts lazily) and yield each as it returns.

        After a request's last retry fails, no new requests start; those already running finish and are
        yielded (so their shards can be written), then the first error is raised.
        """
        source = enumerate(prompts)
        failure: GenerationRequestError | None = None
        inflight: dict = {}
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        try:
            while True:
                while failure is None and len(inflight) < 2 * self.concurrency:
                    nxt = next(source, None)
                    if nxt is None:
                        break
                    inflight[pool.submit(self._one, nxt[1], params)] = nxt[0]
                if not inflight:
                    break
                finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for future in finished:
                    index = inflight.pop(future)
                    try:
                        completions = future.result()
                    except GenerationRequestError as e:
                        failure = failure or e
                        continue
                    yield index, completions
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        if failure is not None:
            raise failure

    def choose(self, prompts: Sequence[Messages], options: Sequence[str], *, seed: int = 0) -> list:
        """Structured choice over HTTP: option `structured` = "vllm" (default; vLLM's structured_outputs
        extra body, with top logprobs) or "json_schema" (OpenAI's response_format; no probabilities)."""
        from concurrent.futures import ThreadPoolExecutor

        from .choice import Choice, openai_parse_choice, openai_request_fields
        mode = self.options.get("structured", "vllm")
        extra = openai_request_fields(options, mode)
        params = GenParams(n=1, temperature=0.0, top_p=1.0, max_tokens=16 if mode == "json_schema" else 8,
                           seed=seed)
        parse = lambda data: openai_parse_choice(data, options, mode)  # noqa: E731
        with ThreadPoolExecutor(self.concurrency) as pool:
            replies = list(pool.map(lambda m: self._request(m, params, extra, parse), prompts))
        # A prompt over the server's context comes back as skipped completions: no choice for it.
        return [r if isinstance(r, Choice) else Choice("", None, error=r[0].finish_reason) for r in replies]

    def close(self) -> None:
        self.session.close()
