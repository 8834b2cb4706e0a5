"""Format filters: is the response there, whole, clean, non-degenerate, in the right language and shape?

Each filter answers one question about one candidate row (`response`, `finish_reason`, and — after the
prompts are joined in — `prompt`, `instruction_id_list`, `kwargs`) and returns a reason to drop it or None.
Every one is usable alone: `FILTERS.get("repetition")(max_duplicate_line_fraction=0.5).reject(row)`.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any, NamedTuple

from ..core.records import prompt_text
from .base import FILTERS, Filter


def response_text(row: dict, field: str = "response") -> str | None:
    """The row's response if it is a string, else None (non-text is the `empty` filter's business)."""
    value = row.get(field)
    return value if isinstance(value, str) else None


def _instruction(row: dict, instruction_id: str) -> tuple[bool, dict]:
    """Whether the row's prompt carries an IFEval instruction, and that instruction's kwargs."""
    ids = list(row.get("instruction_id_list") or [])
    if instruction_id not in ids:
        return False, {}
    kwargs = list(row.get("kwargs") or [])
    i = ids.index(instruction_id)
    return True, {k: v for k, v in (kwargs[i] if i < len(kwargs) else {}).items() if v is not None}


@FILTERS.register("empty")
class EmptyResponse(Filter):
    """Drops rows whose response is missing, not text, or only whitespace."""

    name = "empty"

    def __init__(self, field: str = "response", **options: Any):
        super().__init__(field=field, **options)
        self.field = field

    def reject(self, row: dict) -> str | None:
        if self.field not in row or row[self.field] is None:
            return f"no {self.field!r} field"
        value = row[self.field]
        if not isinstance(value, str):
            return f"{self.field!r} is {type(value).__name__}, not text"
        if not value.strip():
            return "empty or whitespace-only response"
        return None


@FILTERS.register("truncated")
class Truncated(Filter):
    """Drops generations cut off by the token limit (`finish_reason == "length"`) or skipped by the generator."""

    name = "truncated"

    def reject(self, row: dict) -> str | None:
        reason = str(row.get("finish_reason") or "")
        if reason == "length":
            return "hit max_tokens (finish_reason=length)"
        if reason.startswith("skipped:"):
            return f"generation {reason}"
        return None


# Chat-template and special tokens of common model families; any of them in a response means the
# template leaked into the text the trainer would learn from.
DEFAULT_LEAK_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "</s>", "<s>", "<|eot_id|>",
                       "<|start_header_id|>", "<|end_header_id|>", "<|begin_of_text|>", "<end_of_turn>",
                       "<start_of_turn>", "[INST]", "[/INST]", "<|assistant|>", "<|user|>", "<|system|>")
# Role headers at the start of a line: a bare "user"/"assistant" line (ChatML with tokens stripped) or
# "User:"/"Assistant:"/"Human:" speaker tags (HH-RLHF style).
ROLE_HEADER = re.compile(r"(?im)^(?:[ \t]*(?:user|assistant|system)[ \t]*$"
                         r"|[ \t]*(?:user|assistant|human|system)[ \t]*:)")


@FILTERS.register("leakage")
class TemplateLeakage(Filter):
    """Drops responses containing chat-template/special tokens or role headers at line starts."""

    name = "leakage"

    def __init__(self, tokens: list[str] | None = None, role_headers: bool = True, **options: Any):
        super().__init__(tokens=tokens, role_headers=role_headers, **options)
        self.tokens = tuple(tokens) if tokens is not None else DEFAULT_LEAK_TOKENS
        self.role_headers = role_headers

    def reject(self, row: dict) -> str | None:
        text = response_text(row)
        if text is None:
            return None
        for token in self.tokens:
            if token in text:
                return f"special token {token!r} in response"
        if self.role_headers:
            match = ROLE_HEADER.search(text)
            if match:
                return f"role header {match.group(0).strip()!r} at a line start"
        return None


_WORD = re.compile(r"\w+")
_HAS_WORD = re.compile(r"[^\W_]")
# A unit of 1-10 characters repeated back to back many times ("!!!!…", "hahaha…", "ab ab ab …").
_CHAR_LOOP = r"(.{1,10}?)\1{%d,}"
_LAYOUT_CHARS = "-=_*#~.|: \t\n"


@FILTERS.register("repetition")
class Repetition(Filter):
    """Drops degenerate text: repeated lines, repeated word n-grams, or a short unit looping."""

    name = "repetition"

    def __init__(self, ngram_size: int = 4, max_repeated_ngram_fraction: float = 0.5, min_words: int = 20,
                 max_duplicate_line_fraction: float = 0.5, min_lines: int = 4, max_char_loop: int = 20,
                 **options: Any):
        super().__init__(ngram_size=ngram_size, max_repeated_ngram_fraction=max_repeated_ngram_fraction,
                         min_words=min_words, max_duplicate_line_fraction=max_duplicate_line_fraction,
                         min_lines=min_lines, max_char_loop=max_char_loop, **options)
        self.n, self.max_ngram = ngram_size, max_repeated_ngram_fraction
        self.min_words, self.max_lines, self.min_lines = min_words, max_duplicate_line_fraction, min_lines
        self.char_loop = re.compile(_CHAR_LOOP % (max_char_loop - 1), re.S) if max_char_loop else None

    def reject(self, row: dict) -> str | None:
        text = response_text(row)
        if not text:
            return None
        # lines with no letters or digits ("{", "},", "***", "---") are layout and may repeat freely
        lines = [ln.strip() for ln in text.splitlines() if _HAS_WORD.search(ln)]
        if len(lines) >= self.min_lines:
            repeats = len(lines) - len(set(lines))
            if repeats / len(lines) > self.max_lines:
                return f"{repeats}/{len(lines)} lines repeat an earlier line"
        words = _WORD.findall(text.casefold())
        if len(words) >= max(self.min_words, self.n):
            grams = Counter(tuple(words[i:i + self.n]) for i in range(len(words) - self.n + 1))
            total = sum(grams.values())
            repeated = total - len(grams)
            if repeated / total > self.max_ngram:
                return f"{repeated}/{total} word {self.n}-grams are repeats"
        if self.char_loop is not None:
            for match in self.char_loop.finditer(text):
                if match.group(1).strip(_LAYOUT_CHARS):  # rules like "-----" or "=====" are layout, not loops
                    return f"{match.group(1)!r} repeated {len(match.group(0)) // len(match.group(1))} times in a row"
        return None


# English names of the languages langdetect reports most, to notice prompts that ask for them.
_LANGUAGE_NAMES = {"fr": "french", "de": "german", "es": "spanish", "it": "italian", "pt": "portuguese",
                   "nl": "dutch", "da": "danish", "no": "norwegian", "sv": "swedish", "fi": "finnish",
                   "pl": "polish", "ru": "russian", "uk": "ukrainian", "tr": "turkish", "ar": "arabic",
                   "hi": "hindi", "zh-cn": "chinese", "zh-tw": "chinese", "ja": "japanese", "ko": "korean",
                   "ca": "catalan", "ro": "romanian", "cs": "czech", "el": "greek", "he": "hebrew",
                   "id": "indonesian", "vi": "vietnamese", "en": "english", "la": "latin"}


def _prompt_names_language(prompt: str, code: str) -> bool:
    """Whether the prompt asks for translation or names the language the response is in."""
    lowered = prompt.casefold()
    name = _LANGUAGE_NAMES.get(code)
    return "translat" in lowered or (name is not None and name in lowered)


class _LanguageCheck(NamedTuple):
    """One row's language check: its response, whether its instruction asks for a language, the expected
    language (None until the prompt's is known), and the prompt whose language is the expected one (None
    when the expected language is given)."""

    response: str
    asked: bool
    expected: str | None
    prompt: str | None


@FILTERS.register("language")
class WrongLanguage(Filter):
    """Drops responses not in the prompt's language (or the language the prompt's instruction asks for).

    Uses langdetect with a fixed seed; texts under `min_chars` letters are skipped (detection is unreliable).
    langdetect seeds itself for every text, so a text's language does not depend on what was detected
    before: a batch detects each distinct prompt once (n candidates share one), skips the response where the
    prompt's language is unknown, and with `workers` > 1 (default: the cores this process may use, capped by
    OMP_NUM_THREADS) spreads large batches over that many processes. Same verdicts as one row at a time.
    """

    name = "language"
    PARALLEL_MIN_TEXTS = 512  # below this a process pool's start-up costs more than it saves

    def __init__(self, min_chars: int = 40, expected: str | None = None, seed: int = 0,
                 workers: int | None = None, **options: Any):
        super().__init__(min_chars=min_chars, expected=expected, seed=seed, workers=workers, **options)
        self.min_chars, self.expected, self.seed = min_chars, expected, seed
        if workers is not None and workers < 1:
            raise ValueError(f"language filter: workers must be at least 1, got {workers}")
        self.workers = workers

    def _detect_many(self, texts: list[str]) -> dict[str, str | None]:
        """Each distinct text's language (None: too few letters or undetectable)."""
        from ..core.hardware import usable_cpus
        todo = [t for t in dict.fromkeys(texts) if sum(ch.isalpha() for ch in t) >= self.min_chars]
        found: dict[str, str | None] = dict.fromkeys(texts)
        workers = min(self.workers or usable_cpus(), max(1, len(todo) // (self.PARALLEL_MIN_TEXTS // 2)))
        if workers <= 1 or len(todo) < self.PARALLEL_MIN_TEXTS:
            found.update(zip(todo, detect_languages(todo, self.seed)))
            return found
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        # Contiguous slices, one per task (several per worker so a slow slice does not hold the others up).
        size = -(-len(todo) // (workers * 4))
        parts = [todo[i:i + size] for i in range(0, len(todo), size)]
        # fork, as the MinHash pool does: the children run pure Python (langdetect) and need no re-import of the
        # caller's __main__ (spawn/forkserver would re-run a user's script that lacks a main guard).
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for part, codes in zip(parts, pool.map(detect_languages, parts, [self.seed] * len(parts))):
                found.update(zip(part, codes))
        return found

    def reject(self, row: dict) -> str | None:
        return self.reject_batch([row])[0]

    def reject_batch(self, rows: list[dict]) -> list[str | None]:
        """Reasons per row: the prompts' languages first (each distinct prompt once), then the responses'
        where a language is expected."""
        plan: list[_LanguageCheck | None] = []  # None: no response text, nothing to check
        for row in rows:
            text = response_text(row)
            if not text:
                plan.append(None)
                continue
            asked, kwargs = _instruction(row, "language:response_language")
            expected = self.expected or (kwargs.get("language") if asked else None)
            plan.append(_LanguageCheck(text, asked, expected, prompt_text(row.get("prompt")) if expected is None else None))
        prompt_language = self._detect_many([c.prompt for c in plan if c and c.prompt is not None])
        plan = [c._replace(expected=prompt_language[c.prompt]) if c and c.prompt is not None else c for c in plan]
        response_language = self._detect_many([c.response for c in plan if c and c.expected is not None])
        reasons: list[str | None] = []
        for row, check in zip(rows, plan):
            if check is None or check.expected is None:
                reasons.append(None)
                continue
            found, expected = response_language[check.response], check.expected
            if found is None or found.split("-")[0] == expected.split("-")[0]:
                reasons.append(None)
            elif not check.asked and not self.expected and _prompt_names_language(prompt_text(row.get("prompt")), found):
                reasons.append(None)  # "translate this into French": another language is what was asked for
            else:
                reasons.append(f"response is in {found!r}, expected {expected!r}")
        return reasons


def detect_languages(texts: list[str], seed: int = 0) -> list[str | None]:
    """langdetect's code for each text with its seed fixed (the verifiers' `detect_language`); None where it
    finds no features."""
    from ..verifiers.text import LanguageUndetectable, detect_language
    out: list[str | None] = []
    for text in texts:
        try:
            out.append(detect_language(text, seed))
        except LanguageUndetectable:
            out.append(None)
    return out


def _json_ok(response: str, prompt: str) -> bool:
    """IFEval's json_format check, through the shared verifiers."""
    from ..verifiers import verify
    return bool(verify(["detectable_format:json_format"], [{}], response, prompt=prompt)[0])


@FILTERS.register("json_format")
class InvalidJson(Filter):
    """When the prompt asks for JSON (`detectable_format:json_format`, or `always: true`), drops invalid JSON."""

    name = "json_format"

    def __init__(self, always: bool = False, **options: Any):
        super().__init__(always=always, **options)
        self.always = always

    def reject(self, row: dict) -> str | None:
        text = response_text(row)
        asked, _ = _instruction(row, "detectable_format:json_format")
        if text is None or not (asked or self.always):
            return None
        return None if _json_ok(text, prompt_text(row.get("prompt"))) else "prompt asks for JSON; response is not valid JSON"


@FILTERS.register("markdown")
class BrokenMarkdown(Filter):
    """Drops unclosed code fences, and responses failing the prompt's IFEval `detectable_format:*` checks."""

    name = "markdown"

    def reject(self, row: dict) -> str | None:
        text = response_text(row)
        if text is None:
            return None
        fences = len(re.findall(r"(?m)^[ \t]*```", text))
        if fences % 2:
            return "unclosed ``` code fence"
        ids = [i for i in (row.get("instruction_id_list") or [])
               if i.startswith("detectable_format:") and i != "detectable_format:json_format"]
        if not ids:
            return None
        try:
            from ..verifiers import verify
        except ImportError:
            return None  # without the shared verifiers only the fence check applies
        kwargs = [_instruction(row, i)[1] for i in ids]
        try:
            verdicts = verify(ids, kwargs, text, prompt=prompt_text(row.get("prompt")))
        except ValueError as e:  # VerifierError: the prompt's instruction kwargs are unusable
            return f"cannot check the prompt's format instructions: {e}"
        failed = [i for i, ok in zip(ids, verdicts) if not ok]
        return f"fails the prompt's format instruction(s) {failed}" if failed else None


@FILTERS.register("length")
class LengthBounds(Filter):
    """Drops responses outside [min, max] words and/or tokens (tokens: `completion_tokens`, or a tokenizer)."""

    name = "length"

    def __init__(self, min_words: int | None = None, max_words: int | None = None,
                 min_tokens: int | None = None, max_tokens: int | None = None,
                 tokenizer: str | None = None, **options: Any):
        super().__init__(min_words=min_words, max_words=max_words, min_tokens=min_tokens,
                         max_tokens=max_tokens, tokenizer=tokenizer, **options)
        self.words = (min_words, max_words)
        self.tokens = (min_tokens, max_tokens)
        self.tokenizer_path = tokenizer
        self._tokenizer = None

    def _count_tokens(self, row: dict, text: str) -> int:
        if self.tokenizer_path:
            if self._tokenizer is None:
                from transformers import AutoTokenizer
                self._tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_path)
            return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
        if row.get("completion_tokens") is None:
            raise ValueError(f"length filter: row {row.get('candidate_id', '?')} has no completion_tokens; "
                             "give the filter a `tokenizer` path to count tokens")
        return int(row["completion_tokens"])

    def reject(self, row: dict) -> str | None:
        text = response_text(row)
        if text is None:
            return None
        for unit, (low, high) in (("words", self.words), ("tokens", self.tokens)):
            if low is None and high is None:
                continue
            count = len(text.split()) if unit == "words" else self._count_tokens(row, text)
            if low is not None and count < low:
                return f"{count} {unit} < min {low}"
            if high is not None and count > high:
                return f"{count} {unit} > max {high}"
        return None
