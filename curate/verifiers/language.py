"""language:response_language — the whole response is in the requested language."""
from __future__ import annotations

from .base import Verifier, register
from .text import LanguageUndetectable, detect_language


@register
class ResponseLanguage(Verifier):
    """langdetect (seed 0) names the requested ISO 639-1 language; undetectable text passes, as in IFEval."""

    instruction_id = "language:response_language"
    kwarg_types = {"language": str}

    def check(self, response: str) -> bool:
        try:
            return detect_language(response) == self.kwargs["language"]
        except LanguageUndetectable:
            return True
