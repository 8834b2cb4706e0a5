"""Training sets for the safety classifiers, built only from data we may train on.

Refusal detector: our own written examples (`refusal_examples.jsonl`), AdvBench targets (complying
openings, "Sure, here is ..."), and HH-RLHF assistant turns. Harmful-prompt classifier: our own written
examples (`prompt_examples*.jsonl`), AdvBench and HarmBench requests
(harmful; HarmBench's copyright behaviours left out), HH-RLHF harmless-base opening questions whose chosen
answer refuses (harmful) and HH-RLHF helpful-base opening questions (benign). All of it is MIT-licensed
or our own: AlpacaEval and the Self-Instruct seed tasks (CC BY-NC) are not used.

XSTest is the held-out test set: nothing here reads it. Nor does anything read `prompt_dev*.jsonl`, our
own dev sets for choosing the model, threshold and rule settings.
"""
from __future__ import annotations

import csv
import gzip
import json
import random
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .refusal_rules import match_refusal_phrase

OWN_REFUSAL_EXAMPLES = "refusal_examples.jsonl"
OWN_PROMPT_EXAMPLES = "prompt_examples.jsonl"
OWN_PROMPT_EXAMPLES_MORE = "prompt_examples_more.jsonl"
OWN_PROMPT_EXAMPLES_EXTRA = "prompt_examples_extra.jsonl"  # another hand, written without seeing the others
OWN_PROMPT_EXAMPLES_KINDS = "prompt_examples_kinds.jsonl"  # a third hand: the ten kinds of exaggerated-safety case
# Multi-sentence (benign context + harmful or benign ask), wrapped (role-play, "hypothetically", "for a
# story", "ignore your rules"), help-seeking around dangerous topics (benign) and self-harm method requests.
OWN_PROMPT_EXAMPLES_CONTEXT = "prompt_examples_context.jsonl"
# Help-seeking requests about abuse, stalking, assault, crisis, scams, overdose and security (benign), with
# contrast groups on the same topics: harmful asks dressed as help-seeking and plain harmful asks (v6).
OWN_PROMPT_EXAMPLES_HELPSEEKING = "prompt_examples_helpseeking.jsonl"
# Contrast groups on the same topics (v7): dark fiction without operational detail vs fiction asking for real
# steps; hypothetical / role-play / "ignore your rules" / prefaced wrappers around harmful and benign asks;
# self-harm method asks vs self-harm support; fraud asks vs scam-victim help; violent verbs aimed at a person
# vs at an object, a process or a game.
OWN_PROMPT_EXAMPLES_V7 = "prompt_examples_v7.jsonl"
OWN_PROMPT_TRAINING_FILES = (OWN_PROMPT_EXAMPLES, OWN_PROMPT_EXAMPLES_MORE, OWN_PROMPT_EXAMPLES_EXTRA,
                             OWN_PROMPT_EXAMPLES_KINDS, OWN_PROMPT_EXAMPLES_CONTEXT, OWN_PROMPT_EXAMPLES_HELPSEEKING,
                             OWN_PROMPT_EXAMPLES_V7)
OWN_PROMPT_DEV = "prompt_dev.jsonl"
OWN_PROMPT_DEV2 = "prompt_dev2.jsonl"  # written later, by another hand, without seeing the other files
OWN_PROMPT_DEV3 = "prompt_dev3.jsonl"  # a fourth hand, the same ten kinds as prompt_examples_kinds
OWN_PROMPT_DEV4 = "prompt_dev4.jsonl"  # the kinds of prompt_examples_context, written in a separate pass after it
OWN_PROMPT_DEV5 = "prompt_dev5.jsonl"  # another hand, 14 kinds (help-seeking, disguised, wrapped, prefaced), v6
# another hand, 15 kinds (dark fiction, wrapped, prefaced, mixed, self-harm, fraud, overdose/scam help), v7
OWN_PROMPT_DEV6 = "prompt_dev6.jsonl"
OWN_PROMPT_DEVS = (OWN_PROMPT_DEV, OWN_PROMPT_DEV2, OWN_PROMPT_DEV3, OWN_PROMPT_DEV4, OWN_PROMPT_DEV5, OWN_PROMPT_DEV6)
REFUSAL_LABELS = {"full_refusal": 1, "partial_refusal": 1, "compliance": 0}
PROMPT_LABELS = {"harmful": 1, "benign": 0}


@dataclass
class LabelledTexts:
    """Texts with 0/1 labels and the source each came from (for counts in the weights file)."""

    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add(self, texts, label: int, source: str) -> None:
        """Append texts, all with one label and source."""
        for t in texts:
            if t and t.strip():
                self.texts.append(t.strip())
                self.labels.append(label)
                self.sources.append(source)

    def counts(self) -> dict[str, dict[str, int]]:
        """{source: {"0": n, "1": n}} for the record of what a model was fitted on."""
        out: dict[str, dict[str, int]] = {}
        for s, y in zip(self.sources, self.labels):
            out.setdefault(s, {"0": 0, "1": 0})[str(y)] += 1
        return out


def own_examples(name: str) -> list[dict]:
    """Rows of one of our own example files shipped in this package."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def hh_turns(dialogue: str) -> list[tuple[str, str]]:
    """Split an HH-RLHF "\\n\\nHuman: … \\n\\nAssistant: …" dialogue into (role, text) turns."""
    parts = re.split(r"\n\n(Human|Assistant): ", dialogue)
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


def _hh_dialogues(data_dir: Path, split: str) -> list[str]:
    path = data_dir / "hh_rlhf" / split / "test.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line)["chosen"] for line in f if line.strip()]


def _csv_column(path: Path, column: str) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return [row[column] for row in csv.DictReader(f)]



def refusal_training_set(data_dir: str | Path, *, seed: int = 0, max_hh: int = 800,
                         max_advbench: int = 150) -> LabelledTexts:
    """Responses labelled refusal (1) or compliance (0).

    HH-RLHF has no refusal labels, so its turns are labelled weakly and only where that is safe: the
    first assistant turn of a helpful-base dialogue with no refusal phrase counts as compliance, and a
    harmless-base assistant turn with a refusal phrase counts as refusal.
    """
    data_dir = Path(data_dir)
    rng = random.Random(seed)
    out = LabelledTexts()
    for row in own_examples(OWN_REFUSAL_EXAMPLES):
        out.add([row["text"]], REFUSAL_LABELS[row["label"]], "own")
    targets = _csv_column(data_dir / "advbench" / "harmful_behaviors.csv", "target")
    out.add(rng.sample(targets, min(max_advbench, len(targets))), 0, "advbench_targets")
    helpful = []
    for d in _hh_dialogues(data_dir, "helpful-base"):
        turns = hh_turns(d)
        if len(turns) >= 2 and turns[1][0] == "Assistant" and not match_refusal_phrase(turns[1][1]):
            helpful.append(turns[1][1])
    out.add(rng.sample(helpful, min(max_hh, len(helpful))), 0, "hh_helpful")
    refusing = []
    for d in _hh_dialogues(data_dir, "harmless-base"):
        refusing += [t for role, t in hh_turns(d) if role == "Assistant" and match_refusal_phrase(t)]
    out.add(sorted(set(refusing)), 1, "hh_harmless_refusals")
    return out


def _harmbench_behaviours(data_dir: Path) -> list[str]:
    """HarmBench behaviours except the copyright ones ("reproduce the lyrics of ..."): those are harmful
    only as copyright infringement, which this classifier is not about, and they read like benign tasks."""
    with open(data_dir / "harmbench" / "harmbench_behaviors_text_all.csv", newline="", encoding="utf-8") as f:
        return [r["Behavior"] for r in csv.DictReader(f) if r["FunctionalCategory"] != "copyright"]


def harmful_prompt_training_set(data_dir: str | Path, *, seed: int = 0, max_hh: int = 1000,
                                augment_share: float = 0.0) -> LabelledTexts:
    """Requests labelled harmful (1) or benign (0); only own, AdvBench, HarmBench and HH-RLHF data (no CC BY-NC).

    `augment_share` > 0 adds preface/wrapper variants of that share of them (`prompt_augment`, source
    "augmented"); measured on the dev sets and not used for the shipped head (docs/benchmarks.md)."""
    data_dir = Path(data_dir)
    rng = random.Random(seed)
    out = LabelledTexts()
    for name in OWN_PROMPT_TRAINING_FILES:
        for row in own_examples(name):
            out.add([row["text"]], PROMPT_LABELS[row["label"]], "own")
    out.add(_csv_column(data_dir / "advbench" / "harmful_behaviors.csv", "goal"), 1, "advbench")
    out.add(_harmbench_behaviours(data_dir), 1, "harmbench")
    # Weak label, safe in one direction only: a red-team opening the chosen answer refuses is taken as harmful.
    refused = []
    for d in _hh_dialogues(data_dir, "harmless-base"):
        turns = hh_turns(d)
        if len(turns) >= 2 and turns[1][0] == "Assistant" and match_refusal_phrase(turns[1][1]):
            refused.append(turns[0][1])
    out.add(sorted(set(refused)), 1, "hh_harmless_refused")
    firsts = [hh_turns(d)[0][1] for d in _hh_dialogues(data_dir, "helpful-base") if hh_turns(d)]
    out.add(rng.sample(firsts, min(max_hh, len(firsts))), 0, "hh_helpful")
    if augment_share:
        from .prompt_augment import augmented
        texts, labels = augmented(out.texts, out.labels, share=augment_share, seed=seed)
        for label in (0, 1):
            out.add([t for t, y in zip(texts, labels) if y == label], label, "augmented")
    return out
