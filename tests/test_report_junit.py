"""JUnit XML: each test case carries its cell and measurements as properties."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

CLAIMS = '''
import pytest_interp as interp


@interp.claim()
def test_measures(model):
    """Two measurements, one of them with a null."""
    interp.check("score", 0.75, ">=", 0.5, null=0.5)
    interp.check("gap", 0.125, "<", 0.2)


@interp.claim(needs=["attn.head"])
def test_needs_heads(model):
    raise AssertionError("never runs on an mlp")


def test_not_a_claim():
    pass
'''


@pytest.mark.usefixtures("store_env")
def test_cell_and_measurements_are_junit_properties(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIMS)
    xml = pytester.path / "junit.xml"
    pytester.runpytest("--interp-models=tiny", f"--junitxml={xml}").assert_outcomes(passed=2, skipped=1)
    cases = {c.get("name"): [(p.get("name"), p.get("value")) for p in c.iter("property")]
             for c in ET.parse(xml).getroot().iter("testcase")}
    props = dict(cases["test_measures[mlp-1k-adam-s0]"])
    assert props["interp.claim"] == "test_claims.py::test_measures"
    assert props["interp.cell"] == "mlp-1k-adam-sparse-parity-s0"
    assert (props["interp.family"], props["interp.size"], props["interp.optimizer"], props["interp.seed"]) == \
        ("mlp", "1k", "adam", "0")
    assert int(str(props["interp.params"])) > 0 and props["interp.outcome"] == "holds"
    assert props["interp.measurement.score"] == "0.75" and props["interp.threshold.score"] == ">= 0.5"
    assert props["interp.null.score"] == "0.5"
    assert props["interp.measurement.gap"] == "0.125" and props["interp.threshold.gap"] == "< 0.2"
    assert props["interp.vacuous"] == "true"  # constants hold on the untrained control too
    # each property once, even though the claim also ran on its control
    assert len(cases["test_measures[mlp-1k-adam-s0]"]) == len(props)
    na = dict(cases["test_needs_heads[mlp-1k-adam-s0]"])
    assert na["interp.outcome"] == "n/a" and na["interp.cell"] == "mlp-1k-adam-sparse-parity-s0"
    assert cases["test_not_a_claim"] == []
