"""Issue 13: the bad-input corpus (tests/bad_inputs/) against every command that reads user files.

Each case must exit 2 with the file, the line and (where there is one) the field in the message, no
traceback, and leave no DONE anywhere: not in --out, not under the runs root.
"""
from pathlib import Path

import pytest

from alignsmith.train.cli import main

BAD = Path(__file__).resolve().parents[1] / "bad_inputs"
GOOD_CANDIDATES = Path(__file__).resolve().parents[1] / "curate" / "pairs_smollm2_candidates.jsonl"
IFEVAL_INPUT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ifeval" / "input_data.jsonl"

# Prompt-file problems (line, field) that every prompt reader must refuse.
PROMPT_FILES = {
    "malformed_line.jsonl": (2, None), "invalid_utf8.jsonl": (2, None), "not_an_object.jsonl": (2, None),
    "missing_prompt.jsonl": (2, "prompt"), "unknown_role.jsonl": (2, "prompt"), "no_user_turn.jsonl": (2, "prompt"),
    "kwargs_mismatch.jsonl": (2, "kwargs"), "malformed.json": (2, None), "malformed.csv": (3, None),
}
# Row-file problems every reader of rows refuses whatever columns it needs.
UNREADABLE = {"malformed.json": (2, None), "malformed.csv": (3, None)}


def _cases():
    for name, (line, field) in PROMPT_FILES.items():
        yield "generate", name, (line, field), lambda f, o: [
            "generate", "--prompts", f, "--backend", "hf", "--model", "/nonexistent", "--out", o]
        yield "prompts augment", name, (line, field), lambda f, o: [
            "prompts", "augment", "--input", f, "--out", o + "/augmented.jsonl"]
    for name, where in {**UNREADABLE, "malformed_line.jsonl": (2, None), "invalid_utf8.jsonl": (2, None),
                        "not_an_object.jsonl": (2, None), "response_not_text.jsonl": (1, "prompt_id")}.items():
        yield "pairs", name, where, lambda f, o: ["pairs", "--input", f, "--out", o]
    for name, where in {**UNREADABLE, "response_not_text.jsonl": (2, "response")}.items():
        yield "detect refusal", name, where, lambda f, o: [
            "detect", "refusal", "--input", f, "--text-field", "response", "--out", o + "/scores.jsonl"]
    # (a non-text response: eval ifeval names the IFEval prompt key instead, see tests/evaluate/test_ifeval_cli.py)
    for name, where in UNREADABLE.items():
        yield "eval ifeval", name, where, lambda f, o: [
            "eval", "ifeval", "--input-data", str(IFEVAL_INPUT), "--responses", f, "--out", o]
    for name, where in UNREADABLE.items():
        yield "curate", name, where, lambda f, o: ["curate", "--input", f, "--out", o]
        yield "curate dedup", name, where, lambda f, o: ["curate", "dedup", "--input", f, "--out", o]
        yield "curate decontam", name, where, lambda f, o: ["curate", "decontam", "--input", f, "--out", o]
    for name, where in {**UNREADABLE, "malformed_line.jsonl": (2, None), "invalid_utf8.jsonl": (2, None),
                        "pair_missing_chosen.jsonl": (2, "chosen")}.items():
        yield "train dpo", name, where, lambda f, o: [
            "train", "dpo", "--preset", "cpu-smoke", "--dataset", f, "--out", o]
    # Config files: the bad file is the config; the data is good.
    good = str(GOOD_CANDIDATES)
    for name, where in {"curate_syntax_error.yaml": (None, None), "curate_unknown_option.yaml": (None, "ngram_sise"),
                        "curate_wrong_type.yaml": (None, "ngram_size"),
                        "curate_unknown_filter.yaml": (None, None)}.items():
        yield "curate --config", name, where, lambda f, o: ["curate", "--input", good, "--config", f, "--out", o]
    yield "pairs --config", "pairs_yes_for_number.yaml", (None, "max_similarity"), \
        lambda f, o: ["pairs", "--input", good, "--config", f, "--out", o]
    for name, where in {"generate_wrong_type.yaml": (None, "temperature"),
                        "generate_unknown_key.yaml": (None, "temprature")}.items():
        yield "generate --config", name, where, lambda f, o: [
            "generate", "--prompts", good, "--config", f, "--backend", "hf", "--out", o]


CASES = list(_cases())


@pytest.mark.parametrize("command, name, where, argv", CASES, ids=[f"{c}:{n}" for c, n, _, _ in CASES])
def test_bad_input_is_refused_with_file_line_field_and_no_done(command, name, where, argv, tmp_path, capsys):
    if command == "eval ifeval" and not IFEVAL_INPUT.exists():
        pytest.skip("IFEval input data not in ../shared/data")
    path = str(BAD / name)
    out = tmp_path / "out"
    assert main(argv(path, str(out))) == 2
    err = capsys.readouterr().err
    line, field = where
    assert path in err, err
    if line is not None:
        assert f"{path}:{line}" in err, err
    if field is not None:
        assert repr(field) in err, err
    assert "Traceback" not in err
    assert not list(tmp_path.rglob("DONE")), "a refused run left a DONE"
