"""AlpacaEval-LC's own pieces: the baseline's concise/verbose judgements as the length regulariser
(df_gamed), a fixed instruction-difficulty table, and difficulty looked up by row position. The upstream
files are not in the shared data (the full measurement is in docs/benchmarks.md); these tests build small
ones in upstream's formats and run the fit on the real AlpacaEval annotations."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.evaluate.annotations import read_annotations
from alignsmith.evaluate.lc_glm import LCSettings, lc_win_rates, position_keys
from alignsmith.evaluate.lc_reference import build_from_alpaca_eval, read_difficulty, read_length_reference
from alignsmith.evaluate.winrates import compute_winrates

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "alpaca_eval_annotations"
COMPACT = DATA / "annotations_compact.jsonl.gz"
needs_data = pytest.mark.skipif(not COMPACT.exists(), reason="shared AlpacaEval annotations not present")
FAST = LCSettings(n_boot=0)


def _checkout(root: Path, *, weights: bool = True, annotations: bool = False, lengths=(10, 400, 40)) -> Path:
    instructions = [f"instruction {i}" for i in range(len(lengths))]
    def write(name, outs):
        (root / "results" / name).mkdir(parents=True, exist_ok=True)
        (root / "results" / name / "model_outputs.json").write_text(json.dumps(
            [{"instruction": t, "output": "x" * n} for t, n in zip(instructions, outs)]))
    write("base", lengths)
    write("base_concise", [max(1, n // 4) for n in lengths])
    write("base_verbose", [n * 2 for n in lengths])
    if weights:
        w = root / "src" / "alpaca_eval" / "metrics" / "weights" / "weighted_alpaca_eval_gpt4_turbo" / \
            "length_controlled_v1"
        w.mkdir(parents=True)
        (w / "baseline_base.csv").write_text(
            ",np.tanh(std_delta_len),instruction_difficulty,not_gamed_baseline.astype(float)\n"
            "base_concise,-1.6,0.7,-0.3\nbase_verbose,-1.5,0.8,0.2\nbase,0,0,0\n")
    if annotations:
        a = root / "results" / "base_concise" / "weighted_alpaca_eval_gpt4_turbo"
        a.mkdir(parents=True)
        a.joinpath("annotations.json").write_text(json.dumps([{"preference": p} for p in (1.2, 0, 1.9)]))
    return root


def test_checkout_gives_lengths_and_glm_coefficients_or_real_verdicts(tmp_path):
    ref = build_from_alpaca_eval(_checkout(tmp_path / "a"), "base")
    assert sorted(ref["model"].unique()) == ["base_concise", "base_verbose"] and len(ref) == 6
    concise = ref[ref["model"] == "base_concise"]
    assert (concise["std_delta_len"] > 0).all()  # the baseline is longer than its concise variant
    assert concise["preference"].isna().all() and (concise["glm_length"] == -1.6).all()
    judged = build_from_alpaca_eval(_checkout(tmp_path / "b", annotations=True), "base")
    # AlpacaEval's [1, 2] preferences (0 = draw) become [0, 1]; the verbose variant still uses its weights
    assert judged[judged["model"] == "base_concise"]["preference"].round(6).tolist() == [0.2, 0.5, 0.9]
    assert judged[judged["model"] == "base_verbose"]["preference"].isna().all()


def test_checkout_without_verdicts_or_with_other_instructions_is_refused(tmp_path):
    with pytest.raises(InputError, match="neither its annotations nor its published GLM weights"):
        build_from_alpaca_eval(_checkout(tmp_path / "a", weights=False), "base")
    root = _checkout(tmp_path / "b")
    outs = json.loads((root / "results" / "base_verbose" / "model_outputs.json").read_text())
    outs[1]["instruction"] = "something else"
    (root / "results" / "base_verbose" / "model_outputs.json").write_text(json.dumps(outs))
    with pytest.raises(InputError) as e:
        build_from_alpaca_eval(root, "base")
    assert e.value.field == "instruction" and "base_verbose" in str(e.value)
    with pytest.raises(InputError, match="no outputs of the baseline"):
        build_from_alpaca_eval(root, "other")


@pytest.mark.parametrize("change, field", [({"preference": 1.7}, "preference"), ({"index": 1.5}, "index"),
                                            ({"std_delta_len": "x"}, "std_delta_len")])
def test_df_gamed_csv_bad_rows_name_line_and_field(tmp_path, change, field):
    rows = [{"model": "b_concise", "index": i, "preference": 0.3, "std_delta_len": 0.5} for i in range(3)]
    rows[1].update(change)
    path = tmp_path / "df_gamed.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with pytest.raises(InputError) as e:
        read_length_reference(path, baseline="b")
    assert e.value.field == field and e.value.line == 3


def _reference(slope: float, n: int = 805) -> pd.DataFrame:
    """Two variants of the baseline whose verdicts follow a pure length reaction of the given slope."""
    rng = np.random.default_rng(0)
    rows = []
    for name, shift in (("gpt4_1106_preview_concise", 1.2), ("gpt4_1106_preview_verbose", -0.8)):
        z = rng.normal(shift, 0.6, n)
        rows.append(pd.DataFrame({"model": name, "index": np.arange(n), "std_delta_len": z,
                                  "preference": 1 / (1 + np.exp(-slope * np.tanh(z))),
                                  "glm_length": np.nan, "glm_difficulty": np.nan, "glm_bias": np.nan}))
    return pd.concat(rows, ignore_index=True)


@needs_data
def test_reference_pins_the_length_slope_and_moves_lc_of_a_short_model():
    ann = read_annotations([str(COMPACT)])
    weak, _ = lc_win_rates(ann.table, baseline=ann.baseline, settings=FAST, reference=_reference(-0.3))
    strong, _ = lc_win_rates(ann.table, baseline=ann.baseline, settings=FAST, reference=_reference(-3.0))
    weak, strong = ({r.model: r for r in res} for res in (weak, strong))
    # Judged short (gpt-3.5-turbo-1106_concise is much shorter than the baseline): the stronger the judge's
    # pure reaction to length, the more of its losses the length term explains, and the higher its LC.
    m = "gpt-3.5-turbo-1106_concise"
    assert strong[m].coefficients["length"] < weak[m].coefficients["length"] - 0.3
    assert strong[m].lc_win_rate > weak[m].lc_win_rate + 0.02
    # The raw win rate is the judge's, whatever the regulariser
    assert strong[m].win_rate == weak[m].win_rate


@needs_data
def test_fixed_difficulty_table_and_reference_make_a_models_lc_independent_of_the_others(tmp_path):
    ref = tmp_path / "df_gamed.csv"
    _reference(-2.0)[["model", "index", "preference", "std_delta_len"]].to_csv(ref, index=False)
    saved = tmp_path / "difficulty.csv"

    def lc(path, **kw):
        return compute_winrates([str(path)], settings=FAST, length_reference=str(ref), **kw)["table"] \
            .set_index("generator")["lc_win_rate"]
    full = lc(COMPACT, save_difficulty=str(saved))
    table = read_difficulty(saved)
    assert len(table) == 805 and table.index.tolist() == list(range(805))
    pd.testing.assert_series_equal(full, lc(COMPACT, difficulty=str(saved)), atol=1e-6)
    # Half of the models removed: with the joint difficulty fit the others' LC moves; with the saved table and
    # the baseline's own length variants as the regulariser it does not move at all.
    ann = read_annotations([str(COMPACT)])
    keep = sorted(ann.table["model"].unique())[::2] + [ann.baseline]
    sub = tmp_path / "half.jsonl"
    with gzip.open(COMPACT, "rt") as f:
        rows = [json.loads(line) for line in f]
    sub.write_text("\n".join(json.dumps(r) for r in rows if r["generator_2"] in keep) + "\n")
    joint, fixed = lc(sub), lc(sub, difficulty=str(saved))
    models = [m for m in keep if m != ann.baseline]
    assert max(abs(joint[m] - full[m]) for m in models) > 0.05
    assert max(abs(fixed[m] - full[m]) for m in models) < 1e-6


@needs_data
def test_row_order_difficulty_changes_only_models_with_missing_rows():
    ann = read_annotations([str(COMPACT)])
    counts = ann.table.groupby("model").size()
    assert counts["text_davinci_001"] == 803 and counts["alpaca-7b"] == 805
    keys = position_keys(ann.table)
    assert keys is not None and len(keys) == 805
    # With the baseline's variants as the regulariser, a model's fit reads only its own rows and theirs.
    ref = _reference(-2.0)
    own = {r.model: r.lc_win_rate for r in lc_win_rates(ann.table, baseline=ann.baseline, settings=FAST,
                                                        reference=ref)[0]}
    rows = {r.model: r.lc_win_rate for r in lc_win_rates(
        ann.table, baseline=ann.baseline, settings=LCSettings(n_boot=0, row_order_difficulty=True),
        reference=ref)[0]}
    assert abs(own["alpaca-7b"] - rows["alpaca-7b"]) < 1e-9
    assert abs(own["text_davinci_001"] - rows["text_davinci_001"]) > 1e-3


def test_difficulty_table_must_cover_the_instructions(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"index": [0, 1], "instruction_difficulty": [0.1, -0.2]}).to_csv(path, index=False)
    table = pd.DataFrame({"model": ["m"] * 3 + ["n"] * 3, "instruction": ["a", "b", "c"] * 2,
                          "preference": [0.2, 0.6, 0.4, 0.5, 0.7, 0.1], "len_model": [10.0, 20, 30] * 2,
                          "len_baseline": [20.0, 10, 30] * 2, "position": [0, 1, 2] * 2})
    with pytest.raises(InputError, match="covers 2 positions"):
        lc_win_rates(table, settings=LCSettings(n_boot=0, min_items=1), difficulty_by_position=read_difficulty(path))


@needs_data
def test_cli_length_reference_row_order_and_difficulty_files(tmp_path, capsys):
    from alignsmith.train.cli.main import main
    ref = tmp_path / "df_gamed.csv"
    _reference(-2.0)[["model", "index", "preference", "std_delta_len"]].to_csv(ref, index=False)
    out, saved = tmp_path / "lc.csv", tmp_path / "difficulty.csv"
    assert main(["winrates", "--annotations", str(COMPACT), "--length-reference", str(ref),
                 "--alpaca-eval-row-order", "--bootstrap", "0", "--out", str(out), "--save-difficulty",
                 str(saved)]) == 0
    notes = json.loads(out.with_suffix(".notes.json").read_text())
    assert notes["settings"]["row_order_difficulty"] is True and notes["length_reference_source"] == str(ref)
    assert set(notes["length_reference"]) == {"gpt4_1106_preview_concise", "gpt4_1106_preview_verbose"}
    first = pd.read_csv(out).set_index("generator")["lc_win_rate"]
    again = tmp_path / "again.csv"
    assert main(["winrates", "--annotations", str(COMPACT), "--length-reference", str(ref),
                 "--alpaca-eval-row-order", "--bootstrap", "0", "--out", str(again), "--difficulty",
                 str(saved)]) == 0
    pd.testing.assert_series_equal(first, pd.read_csv(again).set_index("generator")["lc_win_rate"], atol=1e-3)
    assert json.loads(again.with_suffix(".notes.json").read_text())["difficulty_source"] == "given table"


def test_difficulty_table_bad_cell_names_line_and_field(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("index,instruction_difficulty\n0,0.1\n1,abc\n")
    with pytest.raises(InputError) as e:
        read_difficulty(path)
    assert e.value.line == 3 and e.value.field == "instruction_difficulty"
