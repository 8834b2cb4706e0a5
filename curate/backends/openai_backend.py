"""Any OpenAI-compatible chat endpoint (a vLLM server fleet, a hosted API): concurrent, retried."""
from __future__ import annotations

import itertools
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from ..records import Messages, prompt_id
from .base import BACKENDS, Backend, Completion, GenParams
from .chat import request_seed

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


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
        import requests
        body = {"model": self.model, "messages": messages, "n": params.n, "temperature": params.temperature,
                "top_p": params.top_p, "max_tokens": params.max_tokens,
                "seed": request_seed(params.seed, messages)}
        if params.stop:
            body["stop"] = params.stop
        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            url = self._url()
            try:
                resp = self.session.post(f"{url}/chat/completions", json=body, timeout=self.timeout,
                                         headers={"Authorization": f"Bearer {self.api_key}"})
                if resp.status_code == 200:
                    return self._parse(resp.json(), params.n)
                last = f"HTTP {resp.status_code} from {url}: {resp.text[:200]}"
                if resp.status_code == 400 and "context" in resp.text.lower():
                    return [Completion("", f"skipped: {resp.text[:200]}", 0, 0) for _ in range(params.n)]
                if resp.status_code not in RETRY_STATUS:
                    break
            except (requests.Timeout, requests.ConnectionError) as e:
                last = f"{type(e).__name__} from {url}: {e}"
            if attempt < self.max_retries:
                time.sleep(self.backoff * (2 ** attempt) * (0.5 + random.random()))
        raise GenerationRequestError(
            f"prompt {prompt_id(messages)}: request failed after {self.max_retries + 1} attempts; last error: {last}")

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

    def generate(self, prompts: Sequence[Messages], params: GenParams) -> list[list[Completion]]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda m: self._one(m, params), prompts))

    def close(self) -> None:
        self.session.close()
