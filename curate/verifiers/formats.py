"""detectable_format:* — bullet lists, fixed answers, highlights, sections, JSON, titles."""
from __future__ import annotations

import json
import re

from .base import Verifier, register

# The three answers IFEval's constrained_response accepts.
CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@register
class NumberBulletLists(Verifier):
    """Exactly N markdown bullet lines ("* item" or "- item")."""

    instruction_id = "detectable_format:number_bullet_lists"
    kwarg_types = {"num_bullets": int}

    def check(self, response: str) -> bool:
        stars = re.findall(r"^\s*\*[^\*].*$", response, flags=re.MULTILINE)
        dashes = re.findall(r"^\s*-.*$", response, flags=re.MULTILINE)
        return len(stars) + len(dashes) == self.kwargs["num_bullets"]


@register
class ConstrainedResponse(Verifier):
    """Contains one of "My answer is yes." / "... no." / "... maybe."."""

    instruction_id = "detectable_format:constrained_response"

    def check(self, response: str) -> bool:
        text = response.strip()
        return any(option in text for option in CONSTRAINED_OPTIONS)


@register
class NumberHighlightedSections(Verifier):
    """At least N non-empty *highlighted* (or **bold**) spans on one line."""

    instruction_id = "detectable_format:number_highlighted_sections"
    kwarg_types = {"num_highlights": int}

    def check(self, response: str) -> bool:
        # IFEval counts single- and double-star spans separately, so "**x**" counts twice.
        single = [h for h in re.findall(r"\*[^\n\*]*\*", response) if h.strip("*").strip()]
        double = [h for h in re.findall(r"\*\*[^\n\*]*\*\*", response) if h[2:-2].strip()]
        return len(single) + len(double) >= self.kwargs["num_highlights"]


@register
class MultipleSections(Verifier):
    """At least N sections, each introduced by the splitter word and a number ("SECTION 1")."""

    instruction_id = "detectable_format:multiple_sections"
    kwarg_types = {"section_spliter": str, "num_sections": int}

    def check(self, response: str) -> bool:
        # Literal match (IFEval splices the word into its regex unescaped; same for plain words).
        splitter = re.escape(self.kwargs["section_spliter"].strip())
        sections = re.split(r"\s?" + splitter + r"\s?\d+\s?", response)
        return len(sections) - 1 >= self.kwargs["num_sections"]


@register
class JsonFormat(Verifier):
    """The whole response parses as JSON (a surrounding ``` or ```json fence is allowed)."""

    instruction_id = "detectable_format:json_format"

    def check(self, response: str) -> bool:
        text = response.strip()
        for fence in ("```json", "```Json", "```JSON", "```"):
            text = text.removeprefix(fence)
        text = text.removesuffix("```").strip()
        try:
            json.loads(text)
        except ValueError:
            return False
        return True


@register
class Title(Verifier):
    """Has a non-empty title in double angle brackets, <<like this>>."""

    instruction_id = "detectable_format:title"

    def check(self, response: str) -> bool:
        return any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", response))
