"""The findings report: FINDINGS specs, the zoo files they become, the page, and `pytest-interp findings`."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pytest_interp._errors import ConfigError
from pytest_interp._findings_spec import doc_sections, read_finding, zoo_toml
from pytest_interp._report.findings import axis_summary, coverage, render

ROOT = Path(__file__).resolve().parents[1]

CLAIM = '''"""Parity is decodable.

Source: Someone et al. 2020 (arXiv 2001.00001).

Direction reported: deeper layers decode
the label better.

Measured here: it holds on mlp.
"""
import pytest_interp as interp

FINDINGS = {spec}


@interp.claim(task="sparse-parity", needs=["embed"])
def test_embedding(model):
    """Breaks: parity is not linear in the bits."""
    acc = interp.logistic_probe(model.activations("embed"), model.data.latents["parity"])
    interp.check("probe_accuracy", acc, ">=", 0.9)
'''


def write_claim(folder: Path, spec: str, name: str = "test_parity.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(CLAIM.format(spec=spec), encoding="utf-8")
    return path


def result(outcome: str, family: str = "mlp", size: str = "1k", optimizer: str = "adam", seed: int = 0,
           **extra: Any) -> dict[str, Any]:
    return {"claim": "claims/test_parity.py::test_embedding", "variant": None, "family": family, "size": size,
            "optimizer": optimizer, "seed": seed, "outcome": outcome, "task": "sparse-parity",
            "cell": f"{family}-{size}-{optimizer}-sparse-parity-s{seed}", "doc": "Breaks: parity.", **extra}


def test_spec_and_docstring_are_read_without_running_the_file(tmp_path: Path) -> None:
    path = write_claim(tmp_path, '{"families": ["mlp"], "hparams": {"adamw": {"weight_decay": 1.0}}, '
                                 '"budget": {"steps": 500}, "extra_optimizers": ["adamw"]}')
    path.write_text(path.read_text() + "\nraise SystemExit('never imported')\n")
    f = read_finding(path)
    assert f is not None and f.families == ["mlp"] and f.budget == {"steps": 500}
    assert f.title == "Parity is decodable."
    assert f.sections["Direction reported"] == "deeper layers decode the label better."
    assert set(f.sections) == {"Source", "Direction reported", "Measured here"}
    zoo = tomllib.loads(zoo_toml(f, ["1k", "10k"], ["sgd", "adam"], 3))
    assert zoo["grid"] == {"families": ["mlp"], "sizes": ["1k", "10k"], "optimizers": ["sgd", "adam", "adamw"], "seeds": 3}
    assert zoo["hparams"] == {"adamw": {"weight_decay": 1.0}} and zoo["budget"] == {"steps": 500}


def test_a_file_without_findings_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "test_x.py"
    path.write_text("def test_x():\n    pass\n")
    assert read_finding(path) is None


@pytest.mark.parametrize("spec", [
    '{"hparams": {}}',                                   # no families
    '{"families": "mlp"}',                               # not a list
    '{"families": ["../mlp"]}',                          # not a name
    '{"families": ["mlp"], "budget": {"steps": -1}}',
    '{"families": ["mlp"], "budget": {"epochs": 3}}',
    '{"families": ["mlp"], "hparams": {"adam": {"lr": [1, 2]}}}',
    '{"families": ["mlp"], "colour": "red"}',
    '{"families": ["mlp"], "sizes": ["big"]}',
    '{"families": ["mlp"], "sizes": []}',
    '{"families": ["mlp"], "sizes": "1k"}',
    'dict(families=["mlp"])',                            # not a literal
])
def test_malformed_specs_are_config_errors(tmp_path: Path, spec: str) -> None:
    with pytest.raises(ConfigError):
        read_finding(write_claim(tmp_path, spec))


def test_doc_sections_join_wrapped_lines() -> None:
    doc = "Title.\n\nSource: A\n  B.\n\nCondition: LayerNorm\nwithout gain.\nMeasured here (digits): x\n  y.\n\nOther: z"
    assert doc_sections(doc) == {"Source": "A B.", "Condition": "LayerNorm without gain.", "Measured here": "(digits): x y."}


def test_axis_summary_counts_seeds_and_says_where_it_breaks() -> None:
    rs = [result("holds", "mlp", seed=0), result("holds", "mlp", seed=1), result("breaks", "lstm", seed=0),
          result("breaks", "lstm", seed=1), result("untrained", "gru"), result("n/a", "cnn")]
    text = axis_summary(rs, "family", ["mlp", "lstm", "gru", "cnn"])
    assert text == "depends on it: holds for mlp (2/2); breaks for lstm (0/2); untrained for gru; n/a for cnn."
    assert axis_summary(rs[:2], "family", ["mlp"]).startswith("transfers: ")
    assert axis_summary(rs[2:4], "family", ["lstm"]).startswith("breaks throughout: ")
    # a family n/a on most seeds and untrained on a few is n/a, with the few counted
    gru = [result("n/a", "gru", seed=s) for s in range(3)] + [result("untrained", "gru", seed=3)]
    assert axis_summary(gru, "family", ["gru"]) == "no decided cell: n/a for gru (1 untrained)."


def test_page_shows_one_symbol_per_seed_the_direction_and_escapes_cells(tmp_path: Path) -> None:
    f = read_finding(write_claim(tmp_path, '{"families": ["mlp", "lstm"]}'))
    assert f is not None
    results = [result("holds", "mlp", optimizer="sgd", seed=0), result("holds", "mlp", optimizer="sgd", seed=1, vacuous=True),
               result("breaks", "lstm", optimizer="adam", seed=0), result("untrained", "lstm", optimizer="adam", seed=1)]
    verdicts = [{"claim": results[0]["claim"], "variant": None, "family": "mlp", "size": "1k", "optimizer": "sgd",
                 "verdict": "holds", "measurements": [{"name": "a|b", "mean": 0.95, "op": ">=", "threshold": 0.9,
                                                       "null": {"mean": 0.5}}]}]
    page = render([(f, {"results": results, "verdicts": verdicts})], command="pytest-interp findings",
                  sizes=["1k"], optimizers=["sgd", "adam"], seeds=2)
    assert "| mlp | 1k | ✓○ |  |" in page
    assert "| lstm | 1k |  | ✗? |" in page
    assert "**Direction reported:** deeper layers decode the label better." in page
    assert "a\\|b" in page and "| mlp | 1k | 0.95 (0.5) |  |" in page
    assert "| `test_parity.py` | reduced: no 1k; no sgd, adam; ? of 2 seeds | deeper layers decode the label better. | `test_embedding` " \
           "| 2/3 | 1/4 |" in page  # the document names no grid, so it cannot count as the full one
    not_run = render([(f, None)], command="c", sizes=["1k"], optimizers=["sgd"], seeds=1)
    assert "*Not run yet.*" in not_run


@pytest.mark.parametrize("grid, words", [
    ({"sizes": ["1k", "10k", "100k"], "optimizers": ["sgd", "adam", "adamw"], "seeds": 3}, "full"),
    ({"sizes": ["1k", "10k"], "optimizers": ["adam"], "seeds": 1}, "reduced: no 100k; no sgd; 1 of 3 seeds"),
    ({}, "reduced: no 1k, 10k, 100k; no sgd, adam; ? of 3 seeds"),
])
def test_coverage_says_full_only_when_the_results_cover_the_page_grid(grid: dict[str, Any], words: str) -> None:
    assert coverage(grid, ["1k", "10k", "100k"], ["adam", "sgd"], 3) == words


def test_coverage_of_a_run_that_stopped_early_is_never_full() -> None:
    grid = {"sizes": ["1k"], "optimizers": ["adam"], "seeds": 1}
    assert coverage(grid, ["1k"], ["adam"], 1, "interrupted") == "reduced: stopped early (interrupted)"


def test_command_line_sizes_win_over_the_files_own(tmp_path: Path) -> None:
    f = read_finding(write_claim(tmp_path, '{"families": ["mlp"], "sizes": ["1k"]}'))
    assert f is not None
    assert tomllib.loads(zoo_toml(f, None, ["sgd"], 1))["grid"]["sizes"] == ["1k"]
    assert tomllib.loads(zoo_toml(f, ["10k"], ["sgd"], 1))["grid"]["sizes"] == ["10k"]
    g = read_finding(write_claim(tmp_path / "other", '{"families": ["mlp"]}'))
    assert g is not None and tomllib.loads(zoo_toml(g, None, ["sgd"], 1))["grid"]["sizes"] == ["1k", "10k", "100k"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import sys; from pytest_interp._cli import main; sys.exit(main())", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_cli_rejects_bad_input_in_one_line(tmp_path: Path) -> None:
    write_claim(tmp_path / "claims", '{"families": ["mlp"]}')
    for args, words in [(["--sizes", "huge"], "size"), (["--seeds", "0"], "--seeds"),
                        (["--only", "test_nothing"], "test_nothing"), (["nowhere"], "not a folder"),
                        (["--device", "gpu0"], "invalid device"), (["--hours", "2"], "--hours bounds a build"),
                        (["--build", "--hours", "0"], "above 0"), (["--build", "--hours", "nan"], "above 0")]:
        done = cli("findings", *args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.usefixtures("store_env")
def test_cli_runs_a_findings_grid_and_writes_the_page(tmp_path: Path) -> None:
    write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 300}}')
    plan = cli("findings", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", "--plan", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.startswith("test_parity: 1 cells to run claims on: 0 stored, 1 to train")
    assert not (tmp_path / "docs").exists()  # a plan writes nothing
    done = cli("findings", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    page = (tmp_path / "docs" / "findings.md").read_text(encoding="utf-8")
    assert "| mlp | 1k | ✗ |" in page
    assert (tmp_path / "docs" / "findings" / "test_parity.json").is_file()
    zoo = tomllib.loads((tmp_path / "docs" / "findings" / "test_parity.zoo.toml").read_text())
    assert zoo["budget"] == {"steps": 300}
    again = cli("findings", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", "--render-only", cwd=tmp_path)
    after = cli("findings", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", "--plan", cwd=tmp_path)
    assert "1 stored, 0 to train" in after.stdout, after.stdout + after.stderr
    assert again.returncode == 0 and (tmp_path / "docs" / "findings.md").read_text(encoding="utf-8") == page
    # an interrupted rerun leaves the last whole results file as it was and keeps its own beside it
    results = tmp_path / "docs" / "findings" / "test_parity.json"
    before = results.read_bytes()
    claim = tmp_path / "claims" / "test_parity.py"
    claim.write_text(claim.read_text() + "\n\n@interp.claim()\ndef test_zz_stop(model):\n    raise KeyboardInterrupt\n")
    stopped = cli("findings", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", cwd=tmp_path)
    assert stopped.returncode == 1 and "test_parity.json is left as it was" in stopped.stderr, stopped.stderr
    assert results.read_bytes() == before
    partial = json.loads((tmp_path / "docs" / "findings" / "test_parity.partial.json").read_text())
    assert partial["stopped_early"] == "interrupted"


def test_the_shipped_findings_page_is_current(tmp_path: Path) -> None:
    """docs/findings.md must be what its results files and today's claim docstrings render to."""
    out = tmp_path / "findings.md"
    done = cli("findings", str(ROOT / "claims"), "--render-only", "--out", str(out), "--results",
               str(ROOT / "docs" / "findings"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == (ROOT / "docs" / "findings.md").read_text(encoding="utf-8"), \
        "run `pytest-interp findings --render-only`"


def test_cli_with_workers_says_the_plan_and_what_each_worker_trained(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))  # its own: nothing stored yet
    write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 300}}')
    done = cli("findings", "--sizes", "1k", "--optimizers", "adam,sgd", "--seeds", "1", "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    lines = done.stdout.splitlines()
    plan = [ln for ln in lines if ln.startswith("pytest-interp: 2 cells to run claims on: 0 stored, 2 to train")]
    assert len(plan) == 1, done.stdout[-2000:]  # printed once, by the controller, from the first worker
    trained = [ln for ln in lines if ln.startswith("[interp] gw") and " trained cell mlp-1k-" in ln]
    assert len(trained) == 2 and trained[-1].endswith("(2 trained in this run)"), done.stdout[-2000:]


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
    order, _, _ = missing_cells([finding], ["1k", "2k"], ["adam", "es"], 1, store)
    assert [c.id for _, c, _ in order] == ["mlp-1k-adam-s0", "mlp-2k-adam-s0", "mlp-1k-es-s0", "mlp-2k-es-s0"]
    _, es, (hparams, budget) = order[-1]
    key = make_plan(es, hparams, budget).key
    ResumeFile(Store(store).path(key).with_suffix(".resume"), key).save({"loop": {"step": 399}})
    order, _, going_on = missing_cells([finding], ["1k", "2k"], ["adam", "es"], 1, store)
    assert [c.id for _, c, _ in order][0] == "mlp-2k-es-s0" and going_on == 1  # 1 step of 400 left: cheapest
    # a GPU build's snapshot resumes only on the GPU: it orders and counts a GPU build, not a CPU one
    path = Store(store).path(key).with_suffix(".resume")
    ResumeFile(path, key, device="cuda").save({"loop": {"step": 399}})
    assert missing_cells([finding], ["1k", "2k"], ["adam", "es"], 1, store)[2] == 0
    order, _, going_on = missing_cells([finding], ["1k", "2k"], ["adam", "es"], 1, store, "cuda")
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
    assert [c.id for _, c, _ in missing_cells([big, small], *grid, file_by_file=True)[0]][:2] == \
        ["mlp-2k-es-s0", "cnn-1k-adam-s0"]
    from pytest_interp._cli import main

    assert main(["findings", str(tmp_path / "claims"), "--file-by-file"]) == 2
    assert "--file-by-file orders a build" in capsys.readouterr().err
    monkeypatch.setenv("PYTEST_INTERP_SNAPSHOT_SECONDS", "inf")
    monkeypatch.setattr("pytest_interp._zoo_build.build", lambda *a, **k: [])  # say what it would do, train nothing
    assert main(["findings", str(tmp_path / "claims"), "--build", "--file-by-file", "--store", str(store),
                 "--sizes", "1k,2k", "--optimizers", "adam,es", "--seeds", "1"]) == 0
    assert "8 cells to train (1 go on from where an interrupted build stopped) for 2 file(s), file by file" \
        in capsys.readouterr().out


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
    order, known, _ = missing_cells([finding], ["1k"], ["adam", "es"], 2, tmp_path / "store", last=[last])
    # adam s0 from its other seed's 30 s; es from adam's 0.15 s a step x step_cost 16 x its 400 steps
    assert [c.id for _, c, _ in order] == ["mlp-1k-adam-s0", "mlp-1k-es-s0", "mlp-1k-es-s1"]
    assert known == [30.0, 960.0, 960.0]


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
