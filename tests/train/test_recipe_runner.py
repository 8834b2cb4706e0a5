"""The recipe runner: YAML checks that name the stage and field, resume of finished stages, refusal of a
stage folder made by another config, failed stages leave no DONE. Real sub-commands on tiny inputs."""
from __future__ import annotations

import json
import textwrap

import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.train.recipes.runner import StageFailed, run_recipe
from alignsmith.train.recipes.spec import SCALES, load_recipe, packaged_recipes

TWO_STAGES = """
name: tiny
seeds: [0]
scales:
  toy: {n: 3, seed: 0}
stages:
  - name: prompts
    uses: prompts_from_sources
    args: {sources: [{source: hh_helpful, limit: "${scale.n}"}], seed: 0, data: "${data}"}
  - name: augment
    uses: augment
    args: {input: "${stages.prompts}", seed: "${scale.seed}", min: 1, max: 2}
"""


def _write(tmp_path, text: str, name: str = "r.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def _error(tmp_path, text: str) -> InputError:
    with pytest.raises(InputError) as e:
        load_recipe(_write(tmp_path, text), scale="toy", out=str(tmp_path / "out"))
    return e.value


def test_packaged_recipes_load_at_every_scale(shared_data):
    assert {"ifeval-dpo", "safety-dpo"} <= set(packaged_recipes())
    for name in ("ifeval-dpo", "safety-dpo"):
        for scale in SCALES:
            recipe = load_recipe(name, scale=scale, seeds=[0, 3], data=str(shared_data))
            trains = [s for s in recipe.stages if s.uses == "train_dpo"]
            assert [s.args["seed"] for s in trains] == [0, 3]
            evals = [s for s in recipe.stages if s.uses == "eval" and s.seed == 3]
            assert all(s.args["model"].endswith("runs/train-dpo/train-seed3/merged") for s in evals)
    # safety-dpo: an SFT warm start per seed, and each seed's DPO starts from that seed's SFT weights.
    recipe = load_recipe("safety-dpo", scale="cpu", seeds=[0, 3], data=str(shared_data))
    sfts = [s for s in recipe.stages if s.uses == "train_sft"]
    assert [s.args["seed"] for s in sfts] == [0, 3]
    dpo3 = next(s for s in recipe.stages if s.uses == "train_dpo" and s.seed == 3)
    assert dpo3.args["model"].endswith("runs/train-sft/train-sft-seed3/merged")
    assert "train-sft-seed3" in dpo3.depends


def test_train_stage_commands(tmp_path):
    from alignsmith.train.recipes.stages import STAGE_KINDS, output_path
    for uses, method in (("train_sft", "sft"), ("train_dpo", "dpo")):
        kind = STAGE_KINDS[uses]
        folder = tmp_path / f"t-{method}"
        argv = kind.build({"dataset": "D", "model": "M", "seed": 1, "config": {"trl": {"max_steps": 3}}}, folder)
        assert argv[:2] == ["train", method]
        assert argv[argv.index("--out") + 1] == str(tmp_path / "runs" / f"train-{method}" / f"t-{method}")
        assert argv[argv.index("--model") + 1] == "M" and argv[argv.index("--merge") + 1] == "true"
        assert "max_steps: 3" in (folder / "train.yaml").read_text()
        assert output_path(kind, folder) == tmp_path / "runs" / f"train-{method}" / f"t-{method}" / "merged"


def test_unknown_stage_kind_names_stage_field_and_suggests(tmp_path):
    err = _error(tmp_path, TWO_STAGES.replace("uses: augment", "uses: augmnt"))
    assert err.field == "uses" and "stage 'augment'" in str(err) and "did you mean 'augment'" in str(err)


def test_missing_input_names_stage_and_field(tmp_path):
    err = _error(tmp_path, TWO_STAGES.replace('input: "${stages.prompts}", ', ""))
    assert err.field == "input" and "stage 'augment'" in str(err) and "missing input" in str(err)


def test_reference_to_a_later_or_unknown_stage_is_refused(tmp_path):
    err = _error(tmp_path, TWO_STAGES.replace("${stages.prompts}", "${stages.generate}"))
    assert err.field == "input" and "'generate'" in str(err) and "earlier: prompts" in str(err)


def test_unknown_field_and_unset_scale_value(tmp_path):
    err = _error(tmp_path, TWO_STAGES.replace("min: 1", "minimum: 1"))
    assert err.field == "minimum" and "stage 'augment'" in str(err)
    err = _error(tmp_path, TWO_STAGES.replace("${scale.seed}", "${scale.sead}"))
    assert err.field == "seed" and "sead" in str(err)


def test_cli_bad_recipe_exits_2_with_one_line(tmp_path, capsys):
    from alignsmith.train.cli import main
    path = _write(tmp_path, TWO_STAGES.replace("uses: augment", "uses: augmnt"))
    assert main(["recipe", "run", path, "--scale", "toy", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "stage 'augment'" in err and "uses" in err
    assert main(["recipe", "run", "ifeval-dpx"]) == 2
    assert "did you mean 'ifeval-dpo'" in capsys.readouterr().err


def test_rerun_reuses_finished_stages_and_refuses_a_changed_config(tmp_path, shared_data):
    out = tmp_path / "out"
    path = _write(tmp_path, TWO_STAGES)
    recipe = load_recipe(path, scale="toy", out=str(out), data=str(shared_data))
    run_recipe(recipe, out, echo=lambda *_: None)
    augmented = out / "augment" / "prompts.jsonl"
    rows = [json.loads(line) for line in augmented.read_text().splitlines()]
    assert len(rows) == 3 and all(r["instruction_id_list"] for r in rows)
    assert (out / "prompts" / "DONE").exists() and (out / "augment" / "DONE").exists()
    before = augmented.stat().st_mtime_ns
    lines: list[str] = []
    run_recipe(load_recipe(path, scale="toy", out=str(out), data=str(shared_data)), out, echo=lines.append)
    assert augmented.stat().st_mtime_ns == before
    assert sum("reused" in line for line in lines) == 2
    changed = _write(tmp_path, TWO_STAGES.replace("toy: {n: 3, seed: 0}", "toy: {n: 3, seed: 1}"), "r2.yaml")
    with pytest.raises(InputError) as e:
        run_recipe(load_recipe(changed, scale="toy", out=str(out), data=str(shared_data)), out)
    assert "stage 'augment'" in str(e.value) and e.value.field == "seed"
    assert augmented.stat().st_mtime_ns == before


def test_unfinished_stage_is_run_again(tmp_path, shared_data):
    out = tmp_path / "out"
    recipe = load_recipe(_write(tmp_path, TWO_STAGES), scale="toy", out=str(out), data=str(shared_data))
    run_recipe(recipe, out, echo=lambda *_: None)
    (out / "augment" / "DONE").unlink()
    lines: list[str] = []
    run_recipe(recipe, out, echo=lines.append)
    assert any(line.startswith("[2/2] augment (augment)") for line in lines)
    assert (out / "augment" / "DONE").exists()


def test_failed_stage_names_itself_shows_the_log_and_leaves_no_done(tmp_path, shared_data):
    broken = TWO_STAGES.replace("min: 1, max: 2", "min: 3, max: 1")  # augment refuses min > max
    out = tmp_path / "out"
    recipe = load_recipe(_write(tmp_path, broken), scale="toy", out=str(out), data=str(shared_data))
    with pytest.raises(StageFailed) as e:
        run_recipe(recipe, out, echo=lambda *_: None)
    assert "stage 'augment' (augment) failed: exit code 2" in str(e.value)
    assert (out / "prompts" / "DONE").exists() and not (out / "augment" / "DONE").exists()


def test_changed_upstream_stage_makes_later_stages_refuse_not_reuse(tmp_path, shared_data):
    out = tmp_path / "out"
    path = _write(tmp_path, TWO_STAGES)
    run_recipe(load_recipe(path, scale="toy", out=str(out), data=str(shared_data)), out, echo=lambda *_: None)
    # Only the first stage changes (3 -> 4 prompts); the second's own fields are the same.
    changed = _write(tmp_path, TWO_STAGES.replace("toy: {n: 3, seed: 0}", "toy: {n: 4, seed: 0}"), "r2.yaml")
    import shutil
    shutil.rmtree(out / "prompts")
    with pytest.raises(InputError) as e:
        run_recipe(load_recipe(changed, scale="toy", out=str(out), data=str(shared_data)), out)
    assert "stage 'augment'" in str(e.value) and "earlier stage it reads changed (prompts)" in str(e.value)


def test_only_runs_the_named_stages_and_a_held_stage_is_waited_for(tmp_path, shared_data):
    import os
    import subprocess
    import sys
    out = tmp_path / "out"
    recipe = load_recipe(_write(tmp_path, TWO_STAGES), scale="toy", out=str(out), data=str(shared_data))
    result = run_recipe(recipe, out, echo=lambda *_: None, only={"prompts"})
    assert (out / "prompts" / "DONE").exists() and not (out / "augment").exists()
    assert result["results"] is None
    # A live process holds augment: the runner waits, and takes the stage over once the holder is gone.
    import threading
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    threading.Thread(target=holder.wait, daemon=True).start()  # reap it, or it lingers as a live zombie
    (out / "augment").mkdir()
    (out / "augment" / "running.pid").write_text(str(holder.pid))
    lines: list[str] = []
    run_recipe(recipe, out, echo=lines.append, poll_s=0.2)
    holder.wait()
    assert any(f"waiting for runner process {holder.pid}" in line for line in lines)
    assert (out / "augment" / "DONE").exists() and not (out / "augment" / "running.pid").exists()
    assert os.path.exists(out / "timings.json")


PARALLEL = """
name: parallel
seeds: [0]
scales:
  toy: {n: 3}
stages:
  - name: first
    uses: prompts_from_sources
    args: {sources: [{source: hh_helpful, limit: "${scale.n}"}], seed: 0, data: "${data}"}
  - name: second
    uses: prompts_from_sources
    args: {sources: [{source: hh_helpful, limit: "${scale.n}"}], seed: 1, data: "${data}"}
  - name: augment
    uses: augment
    args: {input: "${stages.first}", seed: 0, min: MIN, max: 2}
"""


def test_cpu_slots_split_the_cores_and_refuse_more_jobs_than_cores():
    import os

    from alignsmith.train.recipes.slots import cpu_slots
    cores = sorted(os.sched_getaffinity(0))
    assert cpu_slots(1) == [None]
    groups = cpu_slots(len(cores))
    assert sorted(c for g in groups for c in g) == cores and all(len(g) == 1 for g in groups)
    with pytest.raises(ValueError, match="more than the"):
        cpu_slots(len(cores) + 1)
    with pytest.raises(ValueError):
        cpu_slots(0)


def test_slot_env_leaves_vllm_front_end_a_core_when_the_slot_has_several():
    from alignsmith.train.recipes.slots import slot_env
    assert slot_env({"A": "1"}, None) == {"A": "1"}
    one = slot_env({}, [1])
    assert one["OMP_NUM_THREADS"] == "1" and one["VLLM_CPU_OMP_THREADS_BIND"] == "1"
    four = slot_env({}, [4, 5, 6, 7])
    assert four["OMP_NUM_THREADS"] == "4" and four["VLLM_CPU_OMP_THREADS_BIND"] == "5-7"
    assert slot_env({}, [0, 1, 3])["VLLM_CPU_OMP_THREADS_BIND"] == "1,3"


def _two_cores():
    import os
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two cores")


def test_jobs_2_runs_independent_stages_side_by_side_on_their_own_cores(tmp_path, shared_data):
    _two_cores()
    out = tmp_path / "out"
    recipe = load_recipe(_write(tmp_path, PARALLEL.replace("MIN", "1")), scale="toy", out=str(out),
                         data=str(shared_data))
    lines: list[str] = []
    run_recipe(recipe, out, echo=lines.append, jobs=2, poll_s=0.2)
    starts = [i for i, line in enumerate(lines) if line.endswith("...")]
    dones = [i for i, line in enumerate(lines) if " done in " in line]
    # first and second start before either finishes; augment, which reads first, starts after first is done
    assert "first" in lines[starts[0]] and "second" in lines[starts[1]] and starts[1] < dones[0]
    assert "augment" in lines[starts[2]] and any("first done" in lines[d] for d in dones if d < starts[2])
    cores = [(out / s / "log.txt").read_text().splitlines()[0].rsplit("# cores ", 1)[1] for s in ("first", "second")]
    assert cores[0] != cores[1]
    assert all((out / s / "DONE").exists() for s in ("first", "second", "augment"))
    assert set(json.loads((out / "spans.json").read_text())) == {"first", "second", "augment"}


def test_jobs_2_a_failed_stage_raises_after_the_others_end_and_leaves_no_lock(tmp_path, shared_data):
    _two_cores()
    out = tmp_path / "out"
    recipe = load_recipe(_write(tmp_path, PARALLEL.replace("MIN", "3")), scale="toy", out=str(out),
                         data=str(shared_data))
    with pytest.raises(StageFailed, match="stage 'augment'"):
        run_recipe(recipe, out, echo=lambda *_: None, jobs=2, poll_s=0.2)
    assert (out / "second" / "DONE").exists() and not (out / "augment" / "DONE").exists()
    assert not any(out.glob("*/running.pid"))


def test_only_without_the_stage_it_reads_is_refused_naming_both(tmp_path, shared_data):
    out = tmp_path / "out"
    recipe = load_recipe(_write(tmp_path, TWO_STAGES), scale="toy", out=str(out), data=str(shared_data))
    with pytest.raises(InputError) as e:
        run_recipe(recipe, out, echo=lambda *_: None, only={"augment"})
    assert "stage 'augment' reads stage 'prompts'" in str(e.value) and e.value.field == "only"


def test_cli_refuses_more_jobs_than_cores(capsys):
    from alignsmith.train.cli.main import main
    assert main(["recipe", "run", "ifeval-dpo", "--jobs", "999"]) == 2
    assert "more than the" in capsys.readouterr().err


def test_recipe_minutes_count_side_by_side_stages_once_and_no_gaps(tmp_path):
    from alignsmith.train.recipes.report import busy_seconds
    (tmp_path / "spans.json").write_text(json.dumps({"a": [0, 100], "b": [50, 120], "c": [1000, 1010]}))
    # a and b overlap (0..120 busy), then a gap (a resumed run), then c; d was timed before spans were kept
    assert busy_seconds(tmp_path, {"a": 100, "b": 70, "c": 10, "d": 5}) == 120 + 10 + 5
    assert busy_seconds(tmp_path / "none", {"a": 100, "b": 70}) == 170
