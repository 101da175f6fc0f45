"""The claim library on a small real grid, serial and with pytest-xdist."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from interp_results import read_results, without_timings

ROOT = Path(__file__).resolve().parents[1]
GRID = ["--interp-models=mlp,transformer", "--interp-sizes=1k", "--interp-optimizers=adam"]


#: the two sparse-parity probe files: quick on any grid (tests/claims/ checks each other finding)
PROBES = ("test_linear_probe.py", "test_embedding_probe.py")


def _copy_claims(pytester: pytest.Pytester) -> None:
    (pytester.path / "claims").mkdir()
    for name in PROBES:
        shutil.copy(ROOT / "claims" / name, pytester.path / "claims" / name)


@pytest.mark.usefixtures("store_env")
def test_claim_library_on_a_small_grid(pytester: pytest.Pytester) -> None:
    _copy_claims(pytester)
    out = pytester.path / "results.json"
    result = pytester.runpytest("claims", *GRID, f"--interp-json={out}")
    doc = read_results(out)
    outcomes = {(r["claim"].split("::")[1], r["family"]): r["outcome"] for r in doc["results"]}
    assert outcomes == {
        ("test_parity_is_linearly_decodable_at_the_middle_hidden_site", "mlp"): "holds",
        ("test_parity_is_linearly_decodable_at_the_middle_hidden_site", "transformer"): "holds",
        ("test_parity_is_linearly_decodable_from_the_embedding", "mlp"): "breaks",
        ("test_parity_is_linearly_decodable_from_the_embedding", "transformer"): "breaks",
    }
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["claims/test_linear_probe.py::*2 holds", "*", "*", "*", "  family:    holds for mlp, transformer"])


def test_xdist_gives_the_same_results_file(pytester: pytest.Pytester, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    _copy_claims(pytester)
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    serial, parallel = tmp_path / "serial.json", tmp_path / "parallel.json"
    pytester.runpytest_subprocess("claims", *GRID, f"--interp-json={parallel}", "-n", "2")
    pytester.runpytest_subprocess("claims", *GRID, f"--interp-json={serial}")
    a, b = read_results(serial), read_results(parallel)
    assert without_timings(a) == without_timings(b)
    assert len(a["results"]) == 4
    # workers trained the cells; the controller counted them from the workers' reports
    assert b["stats"]["cells_trained"] == 2 and b["stats"]["cells_loaded"] == 0
    assert a["stats"]["cells_trained"] == 0 and a["stats"]["cells_loaded"] == 2
