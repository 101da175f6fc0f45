"""Seeds, quorum and controls through the plugin: the `verdicts` list and `vacuous` flags."""

from __future__ import annotations

import pytest

from interp_results import read_results

CLAIMS = '''
import pytest_interp as interp


@interp.claim()
def test_trivial(model):
    """Holds on any model, trained or not: vacuous."""
    interp.check("params", model.params, ">", 0)


@interp.claim(needs=["hidden"])
def test_learned(model):
    """Needs what training put there: not vacuous."""
    acc = interp.logistic_probe(model.activations("hidden", "last"), model.data.latents["parity"])
    interp.check("probe_accuracy", acc, ">=", 0.9)
'''

pytestmark = pytest.mark.usefixtures("store_env")
GRID = ["--interp-models=mlp", "--interp-sizes=1k", "--interp-optimizers=adam"]


def test_controls_flag_vacuous_claims(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIMS)
    out = pytester.path / "r.json"
    result = pytester.runpytest(*GRID, "--interp-seeds=2", f"--interp-json={out}")
    result.assert_outcomes(passed=4)
    doc = read_results(out)
    by = {v["claim"].split("::")[1]: v for v in doc["verdicts"]}
    assert by["test_trivial"]["vacuous"] and by["test_trivial"]["verdict"] == "holds"
    assert not by["test_learned"]["vacuous"] and by["test_learned"]["control"] == "breaks"
    assert by["test_learned"]["seeds_run"] == 2 and by["test_learned"]["seeds_holding"] == 2
    m = by["test_learned"]["measurements"][0]
    assert m["name"] == "probe_accuracy" and m["low"] <= m["mean"] <= m["high"]
    for r in doc["results"]:
        assert r["control"] is not None and r["control"]["outcome"] in ("holds", "breaks")
        assert r["vacuous"] == (r["claim"].endswith("test_trivial"))
    result.stdout.fnmatch_lines(["*test_trivial*1 vacuous", "*1k", "  mlp  adam  [o○][o○] 2/2"])
    result.stdout.fnmatch_lines(["  vacuous:   also holds on the untrained control at mlp-1k-adam"])


def test_no_controls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIMS)
    out = pytester.path / "r.json"
    pytester.runpytest(*GRID, "--interp-no-controls", f"--interp-json={out}").assert_outcomes(passed=2)
    doc = read_results(out)
    assert all(r["control"] is None and not r["vacuous"] for r in doc["results"])
    assert doc["grid"]["controls"] is False


def test_quorum_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims='''
import pytest_interp as interp

@interp.claim()
def test_seed_zero_only(model):
    interp.check("seed", model.seed, "<", 1)
''')
    out = pytester.path / "r.json"
    pytester.runpytest(*GRID, "--interp-seeds=2", "--interp-no-controls", f"--interp-json={out}")
    assert read_results(out)["verdicts"][0]["verdict"] == "mixed 1/2"
    pytester.runpytest(*GRID, "--interp-seeds=2", "--interp-quorum=0.5", "--interp-no-controls",
                       f"--interp-json={out}")
    assert read_results(out)["verdicts"][0]["verdict"] == "holds"
    bad = pytester.runpytest(*GRID, "--interp-seeds=2", "--interp-quorum=3")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


def test_a_claim_declares_its_own_null(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims='''
import pytest_interp as interp

@interp.claim()
def test_with_null(model):
    interp.check("score", 0.9, ">", 0.5, null=0.2)
''')
    out = pytester.path / "r.json"
    pytester.runpytest(*GRID, "--interp-no-controls", f"--interp-json={out}").assert_outcomes(passed=1)
    doc = read_results(out)
    assert doc["results"][0]["measurements"][0]["null"] == 0.2
    assert doc["verdicts"][0]["measurements"][0]["null"]["mean"] == 0.2
