"""A long findings study: stored-only runs that keep the last results, builds that train only what
the results lack (cheapest first, file by file, within --hours), and the estimates they go by."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from findings_files import cli, result, write_claim

from pytest_interp._findings_spec import read_finding


def test_cli_stored_only_measures_what_is_trained_and_keeps_fuller_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 300}}')
    grid = ["--optimizers", "adam", "--seeds", "1"]
    assert cli("findings", "--sizes", "1k", *grid, cwd=tmp_path).returncode == 0  # trains the 1k cell only
    done = cli("findings", "--sizes", "1k,2k", *grid, "--stored-only", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    results = tmp_path / "docs" / "findings" / "test_parity.json"
    doc = json.loads(results.read_text())
    assert doc["not_stored"] == ["mlp-2k-adam-sparse-parity-s0"] and doc["stats"]["cells_trained"] == 0
    page = (tmp_path / "docs" / "findings.md").read_text(encoding="utf-8")
    assert "| `test_parity.py` | reduced: 1 of 2 cells not trained yet |" in page
    before = results.read_bytes()
    # a store without those cells measures less: the fuller results stay
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "empty"))
    empty = cli("findings", "--sizes", "1k,2k", *grid, "--stored-only", cwd=tmp_path)
    assert "none of its cells is in the store yet" in empty.stderr, empty.stderr
    assert results.read_bytes() == before


def test_a_study_moved_to_a_new_store_trains_and_measures_only_what_its_results_lack(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another machine (or a pruned store) holds none of the cells the last results measured: the
    build trains only the new ones, and the stored-only run keeps the last results for the rest."""
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 300}}')
    grid = ["--optimizers", "adam", "--seeds", "1"]
    assert cli("findings", "--sizes", "1k", *grid, cwd=tmp_path).returncode == 0  # measures the 1k cell
    results = tmp_path / "docs" / "findings" / "test_parity.json"
    first = json.loads(results.read_text())["results"]
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("PYTEST_INTERP_PREBUILT", "")  # nothing prebuilt either
    plan = cli("findings", "--plan", "--sizes", "1k,2k", *grid, cwd=tmp_path)
    assert "2 cells to run claims on: 0 stored, 2 to train" in plan.stdout, plan.stdout + plan.stderr
    assert "\n  `--build` trains 1 (about 0.0 CPU-hours for 1): the others the store lacks are measured in" \
        in plan.stdout, plan.stdout
    assert "\n  by learning algorithm: adam 1 (0.0 h)\n" in plan.stdout, plan.stdout
    build = cli("findings", "--build", "--sizes", "1k,2k", *grid, cwd=tmp_path)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr
    assert build.stdout.startswith("pytest-interp findings: 1 cells to train for 1 file(s)"), build.stdout
    head = build.stdout.splitlines()[0]
    # the estimate goes by the 1k cell's training time in the results file: the store has none
    assert "measured are not trained again" in head and "CPU-hours for the 1 with training times" in head, head
    assert [ln.split("] ")[1].split(":")[0] for ln in build.stdout.splitlines() if ln.startswith("  [")] == \
        ["mlp-2k-adam-sparse-parity-s0"]
    done = cli("findings", "--sizes", "1k,2k", *grid, "--stored-only", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "kept 1 results of cells this store lacks from test_parity.json" in done.stdout, done.stdout[-2000:]
    doc = json.loads(results.read_text())
    assert [r["cell"] for r in doc["results"]] == ["mlp-1k-adam-sparse-parity-s0", "mlp-2k-adam-sparse-parity-s0"]
    assert doc["results"][0] == first[0] and doc["not_stored"] == [] and doc["stats"]["carried"] == 1
    page = (tmp_path / "docs" / "findings.md").read_text(encoding="utf-8")
    assert "| `test_parity.py` | full |" in page
    # a claim edited since: its last results are not vouched for, so they are not kept
    claim = tmp_path / "claims" / "test_parity.py"
    claim.write_text(claim.read_text().replace(">=\", 0.9)", ">=\", 0.8)"))
    again = cli("findings", "--sizes", "1k,2k", *grid, "--stored-only", cwd=tmp_path)
    assert "1 results of test_parity.json are not kept" in again.stderr, again.stderr
    assert "measured 1 cells, the last results 2" in again.stderr and json.loads(results.read_text()) == doc


def test_a_stored_only_run_with_fewer_cells_does_not_replace_the_results(tmp_path: Path) -> None:
    from pytest_interp._findings_results import fewer_cells

    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps({"schema_version": 1, "results": [result("holds"), result("holds", size="2k")]}))
    new.write_text(json.dumps({"schema_version": 1, "results": [result("holds")]}))
    assert fewer_cells(new, old) == "the stored-only run measured 1 cells, the last results 2"
    assert fewer_cells(old, new) is None and fewer_cells(new, tmp_path / "none.json") is None
    old.write_text(json.dumps({"schema_version": 99, "results": []}))  # a newer version's: not ours to overwrite
    why = fewer_cells(new, old) or ""
    assert why.startswith("the last results cannot be read") and "schema version 99" in why, why


def test_cli_build_trains_every_files_missing_cells_cheapest_first_and_measures_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("PYTEST_INTERP_PREBUILT", "")  # nothing prebuilt: every cell is missing
    write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 40}}')
    write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 40}}', name="test_twin.py")
    grid = ["--sizes", "1k,2k", "--optimizers", "adam,es", "--seeds", "1"]
    done = cli("findings", "--build", *grid, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    lines = done.stdout.splitlines()
    # the two files share their cells: each is trained once
    assert lines[0].startswith("pytest-interp findings: 4 cells to train for 2 file(s), cheapest first"), lines[0]
    order = [ln.split("] ")[1].split(":")[0] for ln in lines if ln.startswith("  [")]
    assert order == ["mlp-1k-adam-sparse-parity-s0", "mlp-2k-adam-sparse-parity-s0",
                     "mlp-1k-es-sparse-parity-s0", "mlp-2k-es-sparse-parity-s0"]
    assert not (tmp_path / "docs").exists()  # nothing measured, no page
    plan = cli("findings", *grid, "--plan", cwd=tmp_path)
    assert plan.stdout.count("4 cells to run claims on: 4 stored, 0 to train") == 2, plan.stdout + plan.stderr
    again = cli("findings", "--build", *grid, cwd=tmp_path)
    assert again.stdout.startswith("pytest-interp findings: 0 cells to train"), again.stdout


def test_build_starts_a_cell_an_interrupted_build_left_nearly_done_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_interp._findings_build import missing_cells
    from pytest_interp._resume import ResumeFile
    from pytest_interp._store import Store
    from pytest_interp._train import make_plan

    monkeypatch.setenv("PYTEST_INTERP_PREBUILT", "")
    finding = read_finding(write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 400}}'))
    store = tmp_path / "store"
    order = missing_cells([finding], ["1k", "2k"], ["adam", "es"], 1, store).order
    assert [c.id for _, c, _ in order] == ["mlp-1k-adam-s0", "mlp-2k-adam-s0", "mlp-1k-es-s0", "mlp-2k-es-s0"]
    _, es, (hparams, budget) = order[-1]
    key = make_plan(es, hparams, budget).key
    ResumeFile(Store(store).path(key).with_suffix(".resume"), key).save({"loop": {"step": 399}})
    order, _, _, going_on = missing_cells([finding], ["1k", "2k"], ["adam", "es"], 1, store)
    assert [c.id for _, c, _ in order][0] == "mlp-2k-es-s0" and going_on == 1  # 1 step of 400 left: cheapest
    # a GPU build's snapshot resumes only on the GPU: it orders and counts a GPU build, not a CPU one
    path = Store(store).path(key).with_suffix(".resume")
    ResumeFile(path, key, device="cuda").save({"loop": {"step": 399}})
    assert missing_cells([finding], ["1k", "2k"], ["adam", "es"], 1, store).going_on == 0
    order, _, _, going_on = missing_cells([finding], ["1k", "2k"], ["adam", "es"], 1, store, "cuda")
    assert [c.id for _, c, _ in order][0] == "mlp-2k-es-s0" and going_on == 1
    ResumeFile(path, key).save({"loop": {"step": 399}})
    from pytest_interp._cli import main

    monkeypatch.setenv("PYTEST_INTERP_SNAPSHOT_SECONDS", "inf")
    monkeypatch.setattr("pytest_interp._zoo_build.build", lambda *a, **k: [])  # say what it would do, train nothing
    assert main(["findings", str(tmp_path / "claims"), "--build", "--store", str(store), "--sizes", "1k,2k",
                 "--optimizers", "adam,es", "--seeds", "1"]) == 0
    assert "4 cells to train (1 go on from where an interrupted build stopped)" in capsys.readouterr().out


def test_a_file_by_file_build_finishes_the_file_with_least_left_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Cheapest first across files leaves every file short of 'full' until the end; file by file, the
    file with the fewest CPU-seconds left completes first, and a cell two files share trains once."""
    from pytest_interp._findings_build import missing_cells
    from pytest_interp._resume import ResumeFile
    from pytest_interp._store import Store
    from pytest_interp._train import make_plan

    monkeypatch.setenv("PYTEST_INTERP_PREBUILT", "")
    store = tmp_path / "store"
    big = read_finding(write_claim(tmp_path / "claims", '{"families": ["mlp", "cnn"], "budget": {"steps": 400}}',
                                   name="test_big.py"))
    small = read_finding(write_claim(tmp_path / "claims", '{"families": ["cnn"], "budget": {"steps": 400}}',
                                     name="test_small.py"))
    grid = (["1k", "2k"], ["adam", "es"], 1, store)
    cheapest = [c.id for _, c, _ in missing_cells([big, small], *grid)[0]]
    assert cheapest[:2] == ["cnn-1k-adam-s0", "mlp-1k-adam-s0"], cheapest  # both files' cheap cells first
    by_file = [c.id for _, c, _ in missing_cells([big, small], *grid, file_by_file=True)[0]]
    # nothing stored: every cell counts the same, so the file with fewer cells (cnn only) goes first,
    # cheapest first within it; the shared cnn cells are not repeated for the bigger file
    assert by_file == ["cnn-1k-adam-s0", "cnn-2k-adam-s0", "cnn-1k-es-s0", "cnn-2k-es-s0",
                       "mlp-1k-adam-s0", "mlp-2k-adam-s0", "mlp-1k-es-s0", "mlp-2k-es-s0"], by_file
    assert sorted(by_file) == sorted(cheapest)
    # a cell an interrupted build left half-way goes first whichever file it is in
    _, es, (hparams, budget) = next(t for t in missing_cells([big], *grid)[0] if t[1].id == "mlp-2k-es-s0")
    key = make_plan(es, hparams, budget).key
    ResumeFile(Store(store).path(key).with_suffix(".resume"), key).save({"loop": {"step": 200}})
    resumed = missing_cells([big, small], *grid, file_by_file=True)
    assert [c.id for _, c, _ in resumed.order][:2] == ["mlp-2k-es-s0", "cnn-1k-adam-s0"]
    # each cell is trained for the first file in the build's order that needs it: the shared cnn cells for
    # the small file file by file, for the first file given otherwise
    assert resumed.files == ["test_big"] + ["test_small"] * 4 + ["test_big"] * 3, resumed.files
    assert missing_cells([big, small], *grid).files == ["test_big"] * 8
    from pytest_interp._cli import main

    assert main(["findings", str(tmp_path / "claims"), "--file-by-file"]) == 2
    assert "--file-by-file orders a build" in capsys.readouterr().err
    monkeypatch.setenv("PYTEST_INTERP_SNAPSHOT_SECONDS", "inf")
    monkeypatch.setattr("pytest_interp._zoo_build.build", lambda *a, **k: [])  # say what it would do, train nothing
    assert main(["findings", str(tmp_path / "claims"), "--build", "--file-by-file", "--store", str(store),
                 "--sizes", "1k,2k", "--optimizers", "adam,es", "--seeds", "1", "--hours", "5"]) == 0
    out = capsys.readouterr().out
    assert "8 cells to train (1 go on from where an interrupted build stopped) for 2 file(s), file by file" in out
    # nothing says how long a cell takes (each counts an hour): 5 of 8 fit, and it says whose they are
    assert "5 of 8 cells should finish in time" in out and "(test_big 1 of 4, test_small 4 of 4)" in out, out
    assert "goes by CPU training times" not in out
    monkeypatch.setattr("pytest_interp._options.check_device", lambda device: None)  # no GPU needed to plan
    assert main(["findings", str(tmp_path / "claims"), "--build", "--file-by-file", "--store", str(store),
                 "--sizes", "1k,2k", "--optimizers", "adam,es", "--seeds", "1", "--hours", "5", "--device", "cuda"]) == 0
    assert "--hours goes by CPU training times; on cuda the cells likely finish sooner" in capsys.readouterr().out


def test_cli_build_takes_an_executor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_interp._cli import main

    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("PYTEST_INTERP_PREBUILT", "")
    write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 20}}')
    grid = ["--sizes", "1k", "--optimizers", "adam,sgd", "--seeds", "1"]
    assert main(["findings", str(tmp_path / "claims"), "--build", "--executor", "serial", *grid]) == 0
    out = capsys.readouterr().out
    assert "mlp-1k-adam-sparse-parity-s0: trained" in out and "mlp-1k-sgd-sparse-parity-s0: trained" in out
    assert len(list((tmp_path / "store").glob("??/*.safetensors"))) == 2


def test_cli_build_trains_the_other_seeds_a_claim_declares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A claim that compares seed s with s + 1 needs the seed after the grid's last one as well."""
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("PYTEST_INTERP_PREBUILT", "")
    path = write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 40}}')
    path.write_text(path.read_text().replace('needs=["embed"])', 'needs=["embed"], siblings=[1])'))
    done = cli("findings", "--build", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    order = [ln.split("] ")[1].split(":")[0] for ln in done.stdout.splitlines() if ln.startswith("  [")]
    assert order == ["mlp-1k-adam-sparse-parity-s0", "mlp-1k-adam-sparse-parity-s1"]


def test_recorded_training_times_estimate_cells_the_store_has_never_seen(tmp_path: Path) -> None:
    from pytest_interp._findings_build import missing_cells
    from pytest_interp._findings_results import recorded_training

    finding = read_finding(write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 400}}'))
    seconds = {"training": {"seconds": 30.0, "steps": 200}}
    last = {"grid": {"device": "cpu"}, "results": [result("holds", optimizer="adam", seed=1, **seconds)]}
    assert recorded_training(last, "cpu") == {"mlp-1k-adam-sparse-parity-s1": {"seconds": 30.0, "steps": 200}}
    assert recorded_training(last, "cuda") == {} and recorded_training(None, "cpu") == {}
    order, known, _, _ = missing_cells([finding], ["1k"], ["adam", "es"], 2, tmp_path / "store", last=[last])
    # adam s0 from its other seed's 30 s; es from adam's 0.15 s a step x step_cost 16 x its 400 steps
    assert [c.id for _, c, _ in order] == ["mlp-1k-adam-s0", "mlp-1k-es-s0", "mlp-1k-es-s1"]
    assert known == [30.0, 960.0, 960.0]


def test_by_optimizer_says_where_the_hours_go() -> None:
    from pytest_interp._findings_build import by_optimizer
    from pytest_interp._grid import Cell

    cells = [Cell("mlp", "1k", o, "sparse-parity", s) for o, s in [("adam", 0), ("es", 0), ("es", 1), ("sgd", 0)]]
    assert by_optimizer(cells, [360, 3600, 7200, None]) == "es 2 (3.0 h), adam 1 (0.1 h), sgd 1 (at least 0.0 h)"
    assert by_optimizer([], []) == ""


def test_within_fills_each_worker_up_to_the_limit_in_order() -> None:
    from pytest_interp._findings_build import within

    assert within([60, 60, 60], 100, 2) == [0, 1]  # the third would end at 120 s
    assert within([60, 90, 30, 40], 100, 1) == [0, 2]  # a too-long cell is skipped, a shorter one takes its place
    assert within([50, 50, 50, 50], 100, 2) == [0, 1, 2, 3] and within([], 100, 2) == []
    assert within([101], 100, 4) == []


def test_cli_build_with_hours_trains_only_what_fits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("PYTEST_INTERP_PREBUILT", "")
    write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 40}}')
    grid = ["--sizes", "1k,2k", "--optimizers", "adam", "--seeds", "1"]
    # nothing stored or recorded says how long a cell takes: each counts an hour
    done = cli("findings", "--build", *grid, "--hours", "1.5", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "--hours 1.5: 1 of 2 cells should finish in time on 1 worker(s) (about 1.0 CPU-hours); 1 are left" \
        in done.stdout, done.stdout
    assert [ln.split("] ")[1].split(":")[0] for ln in done.stdout.splitlines() if ln.startswith("  [")] == \
        ["mlp-1k-adam-sparse-parity-s0"]
    # now the 2k cell goes by the 1k cell's stored time, which is seconds
    rest = cli("findings", "--build", *grid, "--hours", "1.5", cwd=tmp_path)
    assert "--hours 1.5: 1 of 1 cells should finish" in rest.stdout and "0 are left" in rest.stdout, rest.stdout
