"""Activation reuse: one forward pass per (model, inputs) serves every claim; counts in `stats`."""

from __future__ import annotations

from pathlib import Path

import pytest

from interp_results import read_results

CLAIMS = '''
import pytest_interp as interp

@interp.claim(needs=["hidden"])
def test_a(model):
    interp.check("n", model.activations("hidden", 0).shape[0], ">", 0)

@interp.claim(needs=["hidden"])
def test_b(model):
    interp.check("n", model.activations("hidden", -1).shape[0], ">", 0)

@interp.claim(needs=["embed"])
def test_c(model):
    interp.check("n", model.activations("embed").shape[0] + model.outputs().shape[0], ">", 0)
'''
GRID = ["--interp-models=mlp", "--interp-sizes=1k,2k", "--interp-optimizers=adam"]


def test_one_forward_pass_per_model_and_inputs(pytester: pytest.Pytester, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    pytester.makepyfile(test_claims=CLAIMS)
    out = pytester.path / "r.json"
    result = pytester.runpytest(*GRID, "--interp-no-controls", f"--interp-json={out}")
    result.assert_outcomes(passed=6)
    assert result.ret == pytest.ExitCode.OK  # every claim holds: exit code 0
    stats = read_results(out)["stats"]
    # 3 claims x 2 cells, all on the test set: one pass per cell
    assert stats["forward_passes"] == 2
    assert stats["training_runs"] == 2 and stats["cells_trained"] == 2
    pytester.runpytest(*GRID, f"--interp-json={out}").assert_outcomes(passed=6)
    stats = read_results(out)["stats"]
    # with controls: one more pass per cell, on the untrained control; nothing trained
    assert stats["forward_passes"] == 4 and stats["training_runs"] == 0 and stats["cells_loaded"] == 2


def test_xdist_loads_each_model_on_one_worker(pytester: pytest.Pytester, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    pytester.makepyfile(test_claims=CLAIMS)
    out = pytester.path / "r.json"
    pytester.runpytest_subprocess(*GRID, "--interp-no-controls", f"--interp-json={out}")
    result = pytester.runpytest_subprocess(*GRID, "--interp-no-controls", "-n", "2", f"--interp-json={out}")
    result.assert_outcomes(passed=6)
    stats = read_results(out)["stats"]
    # grouped by cell: each cell is loaded by exactly one worker, one forward pass each
    assert stats["cells_loaded"] == 2 and stats["forward_passes"] == 2


def test_each_xdist_worker_measures_on_its_share_of_the_cores(pytester: pytest.Pytester, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    pytester.makepyfile(test_claims='''
import os
import torch
import pytest_interp as interp

@interp.claim(needs=["hidden"])
def test_threads(model):
    share = max(1, (os.cpu_count() or 1) // 2)
    assert torch.get_num_threads() == share
''')
    result = pytester.runpytest_subprocess(*GRID, "--interp-no-controls", "-n", "2")
    result.assert_outcomes(passed=2)


def test_xdist_trains_each_cell_once_when_a_claim_has_parameters_of_its_own(
        pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    pytester.makepyfile(test_claims='''
import pytest
import pytest_interp as interp

@pytest.mark.parametrize("layer", [0, -1])
@interp.claim(needs=["hidden"])
def test_layer(model, layer):
    interp.check("n", model.activations("hidden", layer).shape[0], ">", 0)
''')
    out = pytester.path / "r.json"
    result = pytester.runpytest_subprocess(*GRID, "--interp-no-controls", "-n", "2", f"--interp-json={out}")
    result.assert_outcomes(passed=4)
    # two cells, two variants each: a scope per parameter id sends a cell to both workers, where
    # each trains it, or one trains and the other loads it
    stats = read_results(out)["stats"]
    assert (stats["cells_trained"], stats["cells_loaded"], stats["forward_passes"]) == (2, 0, 2)


def test_xdist_workers_say_what_they_trained(pytester: pytest.Pytester, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    pytester.makepyfile(test_claims=CLAIMS)
    args = ["--interp-models=mlp", "--interp-sizes=2k,3k", "--interp-optimizers=adam", "--interp-no-controls", "-n", "2"]
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=6)
    lines = [ln for ln in result.outlines if ln.startswith("[interp] gw")]
    assert len(lines) == 2, result.outlines
    assert {ln.split(" trained cell ")[1].split(" ")[0] for ln in lines} == \
        {"mlp-2k-adam-sparse-parity-s0", "mlp-3k-adam-sparse-parity-s0"}
    assert all("test accuracy" in ln for ln in lines) and lines[-1].endswith("(2 trained in this run)")
    # the plan line, which xdist's controller cannot compute (it collects nothing), comes from the first worker
    assert [ln for ln in result.outlines if ln.startswith("pytest-interp: ")] == \
        ["pytest-interp: 2 cells to run claims on: 0 stored, 2 to train, plus any other seed a claim asks for "
         "without declaring it in `siblings`"]
    # a second run loads both cells: nothing to say but the plan, counted after -k deselects a cell
    again = pytester.runpytest_subprocess(*args, "-k", "2k")
    assert not [ln for ln in again.outlines if ln.startswith("[interp] gw")]
    assert [ln for ln in again.outlines if ln.startswith("pytest-interp: ")][0].startswith(
        "pytest-interp: 1 cells to run claims on: 1 stored, 0 to train"), again.outlines


@pytest.mark.parametrize(("nodeid", "scope"), [
    ("t.py::test_a[mlp-1k-adam-s0]", "mlp-1k-adam-s0"),
    ("t.py::test_a[mlp-1k-adam-s0-logits]", "mlp-1k-adam-s0"),
    ("t.py::test_a[mlp-1k-adam-s12-0-all]@mlp-1k", "mlp-1k-adam-s12"),
    ("t.py::test_a[ssm-100k-sgd-s1]", "ssm-100k-sgd-s1"),
    ("t.py::test_a[transformer-nogain-10k-shampoo-s2-x]", "transformer-nogain-10k-shampoo-s2"),
    ("t.py::test_a[my-model-s3]", "my-model-s3"),
    ("t.py::test_a[no-model]", "no-model"),
    ("t.py::test_plain", "t.py::test_plain"),
])
def test_the_xdist_scope_is_the_cell(nodeid: str, scope: str) -> None:
    pytest.importorskip("xdist")
    from pytest_interp._xdist import cell_scope

    assert cell_scope(nodeid) == scope


def test_xdist_workers_start_with_the_costliest_cells() -> None:
    pytest.importorskip("xdist")
    from pytest_interp._grid import Cell
    from pytest_interp._xdist import costliest_first

    cells = [Cell("mlp", size, opt, "sparse-parity", seed) for size in ("1k", "100k") for opt in ("adam", "es", "lbfgs")
             for seed in (0, 1)] + [Cell("", "", "", "sparse-parity", 0, (), "my-model")]
    items = ["plain", *cells]
    order = costliest_first(items, lambda i: i if isinstance(i, Cell) else None)
    assert [(c.size, c.optimizer) for c in order[:6] if isinstance(c, Cell)] == \
        [("100k", "es")] * 2 + [("100k", "lbfgs")] * 2 + [("1k", "es")] * 2
    # ties keep the collection order (seeds stay in order; a plain test and a named model stay where they were)
    assert [c.seed for c in order[:2]] == [0, 1] and order.index("plain") < order.index(cells[-1])
    assert costliest_first(list(reversed(items)), lambda i: i if isinstance(i, Cell) else None)[:2] == order[:2][::-1]
