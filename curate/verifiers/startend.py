"""startend:* and combination:* — how the response opens and closes, and two-part answers."""
from __future__ import annotations

from .base import Verifier, register

# IFEval's divider between the two answers of combination:two_responses.
TWO_RESPONSES_DIVIDER = "******"


@register
class EndPhrase(Verifier):
    """Ends with the exact phrase (any case; surrounding spaces and double quotes ignored)."""

    instruction_id = "startend:end_checker"
    kwarg_types = {"end_phrase": str}

    def check(self, response: str) -> bool:
        text = response.strip().strip('"').lower()
        return text.endswith(self.kwargs["end_phrase"].strip().lower())


@register
class Quotation(Verifier):
    """The whole response is wrapped in double quotes."""

    instruction_id = "startend:quotation"

    def check(self, response: str) -> bool:
        text = response.strip()
        return len(text) > 1 and text[0] == '"' and text[-1] == '"'


@register
class TwoResponses(Verifier):
    """Exactly two different answers separated by "******"."""

    instruction_id = "combination:two_responses"

    def check(self, response: str) -> bool:
        parts = response.split(TWO_RESPONSES_DIVIDER)
        answers = []
        for index, part in enumerate(parts):
            if part.strip():
                answers.append(part)
            elif index not in (0, len(parts) - 1):
                return False  # an empty answer between two dividers
        return len(answers) == 2 and answers[0].strip() != answers[1].strip()


@register
class RepeatPrompt(Verifier):
    """Starts by repeating the request word for word (any case)."""

    instruction_id = "combination:repeat_prompt"
    kwarg_types = {"prompt_to_repeat": str}

    def check(self, response: str) -> bool:
        return response.strip().lower().startswith(self.kwargs["prompt_to_repeat"].strip().lower())
