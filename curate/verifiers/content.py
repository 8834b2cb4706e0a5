"""detectable_content:* — a postscript, and square-bracket placeholders."""
from __future__ import annotations

import re

from .base import Verifier, register

# IFEval's two spellings get tolerant patterns (optional spaces, "P.P.S" with or without the last dot);
# any other marker is matched literally at the start of some line's remainder.
_MARKER_PATTERNS = {"P.P.S": r"\s*p\.\s?p\.\s?s.*$", "P.S.": r"\s*p\.\s?s\..*$"}


@register
class Postscript(Verifier):
    """The response contains a postscript starting with the marker (any case)."""

    instruction_id = "detectable_content:postscript"
    kwarg_types = {"postscript_marker": str}

    def check(self, response: str) -> bool:
        marker = self.kwargs["postscript_marker"]
        pattern = _MARKER_PATTERNS.get(marker, r"\s*" + re.escape(marker.lower()) + r".*$")
        return re.search(pattern, response.lower(), flags=re.MULTILINE) is not None


@register
class NumberPlaceholders(Verifier):
    """At least N placeholders like [address]."""

    instruction_id = "detectable_content:number_placeholders"
    kwarg_types = {"num_placeholders": int}

    def check(self, response: str) -> bool:
        return len(re.findall(r"\[.*?\]", response)) >= self.kwargs["num_placeholders"]
