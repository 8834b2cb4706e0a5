"""How an Alpaca row's `input` joins its `instruction` (shared by the prompt loader and the importers).

Stanford Alpaca's training template puts the instruction first and the input after it in its own section:
"### Instruction:\\n{instruction}\\n\\n### Input:\\n{input}\\n\\n### Response:". For chat models the same
order is kept without the headers ("newline"); "template" reproduces the full Alpaca prompt for users who
train the original way. Either way the choice is recorded (prompt rows and the import config say which).
"""
from __future__ import annotations

# The two prompts of the Stanford Alpaca template (tatsu-lab/stanford_alpaca, train.py PROMPT_DICT), as text.
ALPACA_PREAMBLE_INPUT = ("Below is an instruction that describes a task, paired with an input that provides "
                         "further context. Write a response that appropriately completes the request.")
ALPACA_PREAMBLE_NO_INPUT = ("Below is an instruction that describes a task. Write a response that "
                            "appropriately completes the request.")
JOIN_STYLES = ("newline", "template")


def join_instruction_input(instruction: str, input_text: str | None, style: str = "newline") -> str:
    """The user turn for an Alpaca row: instruction, then input (when non-empty), in `style`."""
    if style not in JOIN_STYLES:
        raise ValueError(f"unknown Alpaca join style {style!r}; choose one of {', '.join(JOIN_STYLES)}")
    has_input = bool(input_text and input_text.strip())
    if style == "newline":
        return f"{instruction}\n\n{input_text}" if has_input else instruction
    if has_input:
        return (f"{ALPACA_PREAMBLE_INPUT}\n\n### Instruction:\n{instruction}\n\n### Input:\n{input_text}"
                "\n\n### Response:")
    return f"{ALPACA_PREAMBLE_NO_INPUT}\n\n### Instruction:\n{instruction}\n\n### Response:"
