"""`--interp-stored-only`: measure the cells already in the store, train nothing, and say what was left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_interp._errors import NotApplicable, NotStored
from pytest_interp._grid import Cell
from pytest_interp._report.findings import coverage
from pytest_interp._report.merge import ResultsFileError, merge, validate
from pytest_interp._store import Store
from pytest_interp._zoo import Zoo

CLAIMS = '''
import pytest_interp as interp

@interp.claim(needs=["hidden"])
def test_hidden(model):
    interp.check("n", model.activations("hidden").shape[0], ">", 0)

@interp.claim(needs=["hidden"], siblings=[1])
def test_declared_sibling(model):
    other = model.sibling(model.seed + 1)
    interp.check("n", other.activations("hidden").shape[0], ">", 0)

@interp.claim(needs=["hidden"])
def test_undeclared_sibling(model):
    other = model.sibling(model.seed + 1)
    interp.check("n", other.activations("hidden").shape[0], ">", 0)

@interp.claim(needs=["attn.pattern"])
def test_heads(model):
    interp.check("n", model.activations("attn.pattern").shape[0], ">", 0)
'''
GRID = ["--interp-models=mlp", "--interp-optimizers=adam", "--interp-no-controls", "-p", "no:cacheprovider"]
KEY_1K = "mlp-1k-adam-sparse-parity-s0"
KEY_2K = "mlp-2k-adam-sparse-parity-s0"
SIB_1K = "mlp-1k-adam-sparse-parity-s1"
SIB_2K = "mlp-2k-adam-sparse-parity-s1"
LEFT_OUT = sorted([KEY_2K, SIB_1K, SIB_2K])


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    return tmp_path / "store"


def test_a_stored_only_run_trains_nothing_and_lists_what_it_left_out(pytester: pytest.Pytester, store: Path) -> None:
    pytester.makepyfile(test_claims=CLAIMS)
    # store the 1k cell only (seed 0): its seed-1 sibling and the 2k cell stay untrained
    pytester.runpytest(*GRID, "--interp-sizes=1k", "-k", "test_hidden").assert_outcomes(passed=1)
    out = pytester.path / "r.json"
    result = pytester.runpytest(*GRID, "--interp-sizes=1k,2k", "--interp-stored-only", f"--interp-json={out}")
    # the 1k cell: test_hidden holds; the undeclared sibling cannot be trained (n/a, with why); heads n/a.
    # Left out: the 2k cell's claims that need training (its declared sibling too), and the
    # declared-sibling claim on 1k
    result.assert_outcomes(passed=1, skipped=3, deselected=4)
    doc = json.loads(out.read_text())
    assert doc["grid"]["stored_only"] is True
    assert doc["not_stored"] == LEFT_OUT
    assert doc["stats"]["cells_trained"] == 0
    outcomes = {(r["claim"].split("::")[1], r["cell"]): (r["outcome"], r["reason"]) for r in doc["results"]}
    assert outcomes[("test_hidden", KEY_1K)] == ("holds", None)
    assert outcomes[("test_undeclared_sibling", KEY_1K)][0] == "n/a"
    assert "not in the store" in outcomes[("test_undeclared_sibling", KEY_1K)][1]
    # n/a is decided without training, so it is kept even on a cell the store lacks
    assert outcomes[("test_heads", KEY_2K)][0] == "n/a"
    result.stdout.fnmatch_lines([
        "pytest-interp: 1 cells to run claims on: 1 stored; stored-only: 3 cells the store lacks are left out, "
        "and nothing trains",
        "*interp: stored-only: 3 cells the claims need are not in the store; *"])
    assert not list(store.rglob(f"*{KEY_2K}*")), "nothing was trained"
    # -k deselects first: only the selected claims' missing cells are listed
    pytester.runpytest(*GRID, "--interp-sizes=1k,2k", "--interp-stored-only", f"--interp-json={out}",
                       "-k", "test_hidden").assert_outcomes(passed=1, deselected=7)
    assert json.loads(out.read_text())["not_stored"] == [KEY_2K]
    # without the switch the same grid trains what is missing, and no `not_stored` key appears
    full = pytester.runpytest(*GRID, "--interp-sizes=1k,2k", f"--interp-json={out}")
    full.assert_outcomes(passed=6, skipped=2)
    doc = json.loads(out.read_text())
    assert "not_stored" not in doc and "stored_only" not in doc["grid"]


def test_stored_only_under_xdist_relays_what_was_left_out(pytester: pytest.Pytester, store: Path) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(test_claims=CLAIMS)
    pytester.runpytest(*GRID, "--interp-sizes=1k", "-k", "test_hidden").assert_outcomes(passed=1)
    out = pytester.path / "r.json"
    result = pytester.runpytest_subprocess(*GRID, "--interp-sizes=1k,2k", "--interp-stored-only", "-n", "2",
                                           f"--interp-json={out}")
    result.assert_outcomes(passed=1, skipped=3)
    assert json.loads(out.read_text())["not_stored"] == LEFT_OUT
    assert "pytest-interp: 1 cells to run claims on: 1 stored; stored-only: 3 cells the store lacks are left out, " \
           "and nothing trains" in result.outlines


RACE = """
import os, shutil, time
from pathlib import Path
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config):
    # gw1 collects only after gw0 has, and finds a checkpoint a build wrote meanwhile
    worker = getattr(config, "workerinput", {}).get("workerid")
    flag = Path(os.environ.get("RACE_FLAG", "-"))
    if worker == "gw1":
        for _ in range(200):
            if flag.exists():
                break
            time.sleep(0.05)
        dest = Path(os.environ["RACE_DEST"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.environ["RACE_SRC"], dest)

def pytest_collection_finish(session):
    if getattr(session.config, "workerinput", {}).get("workerid") == "gw0":
        Path(os.environ.get("RACE_FLAG", "-")).touch()
"""


def test_stored_only_workers_agree_while_a_build_writes_into_the_store(
        pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """xdist stops a run whose workers collected different tests: a cell stored between two workers'
    collections must count for neither (it was not stored when the run started)."""
    pytest.importorskip("xdist")
    pytester.makepyfile(test_claims=CLAIMS)
    pytester.makeconftest(RACE)
    later = tmp_path / "later"
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(later))  # the 2k cell, written "by the build" mid-run
    pytester.runpytest(*GRID, "--interp-sizes=2k", "-k", "test_hidden", "-p", "no:xdist").assert_outcomes(passed=1)
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    pytester.runpytest(*GRID, "--interp-sizes=1k", "-k", "test_hidden", "-p", "no:xdist").assert_outcomes(passed=1)
    (src,) = later.rglob("*.safetensors")
    monkeypatch.setenv("RACE_SRC", str(src))
    monkeypatch.setenv("RACE_DEST", str(tmp_path / "store" / src.parent.name / src.name))
    monkeypatch.setenv("RACE_FLAG", str(tmp_path / "gw0-collected"))
    out = pytester.path / "r.json"
    result = pytester.runpytest_subprocess(*GRID, "--interp-sizes=1k,2k", "--interp-stored-only", "-n", "2",
                                           f"--interp-json={out}")
    assert (tmp_path / "store" / src.parent.name / src.name).exists(), "the race did not happen"
    result.assert_outcomes(passed=1, skipped=3)
    assert json.loads(out.read_text())["not_stored"] == LEFT_OUT


def test_a_zoo_that_may_not_train_says_so(tmp_path: Path) -> None:
    zoo = Zoo(Store(tmp_path), budget={"steps": 20}, train=False)
    with pytest.raises(NotStored, match="not in the store") as info:
        zoo.subject(Cell("mlp", "1k", "adam", "sparse-parity", 0))
    assert isinstance(info.value, NotApplicable)  # outcome n/a: never a hold or a break
    assert not any(tmp_path.iterdir())


def test_coverage_counts_the_cells_not_trained_yet() -> None:
    grid = {"sizes": ["1k"], "optimizers": ["adam"], "seeds": 1}
    assert coverage(grid, ["1k"], ["adam"], 1, not_stored=[], measured=["a"]) == "full"
    assert coverage(grid, ["1k"], ["adam"], 1, not_stored=["b", "c"], measured=["a", "b"]) == \
        "reduced: 2 of 3 cells not trained yet"


def _doc(results: list[dict[str, object]], not_stored: list[str] | None) -> dict[str, object]:
    from pytest_interp._report import results as results_file

    return results_file.build(results, {}, {"sizes": ["1k"], "seeds": 1}, None, None, not_stored)


def test_merge_unites_the_cells_left_out_and_checks_them() -> None:
    merged = merge([("a.json", _doc([], ["x", "y"])), ("b.json", _doc([], ["y", "z"]))])
    assert merged["not_stored"] == ["x", "y", "z"]
    assert "not_stored" not in merge([("a.json", _doc([], None))])
    bad = _doc([], None) | {"not_stored": "x"}
    with pytest.raises(ResultsFileError, match="not_stored"):
        validate(bad, "bad.json")
