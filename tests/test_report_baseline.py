"""Baselines: regressions fail the run, known breaks are expected failures, new holds are improvements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_interp._report.baseline import (
    IMPROVEMENT, KNOWN, MISSING, NEW, REGRESSION, TOLERATED, Baseline, BaselineError, classify, compare, parse,
)

CELL = "mlp-1k-adam-sparse-parity-s0"

# constant measurements: the outcomes are planted, the model is the real tiny cell
CLAIMS = '''
import pytest_interp as interp


@interp.claim()
def test_holds(model):
    interp.check("score", 1.0, ">=", 0.5)


@interp.claim()
def test_same(model):
    interp.check("score", 0.75, ">=", 0.5)


@interp.claim()
def test_known(model):
    interp.check("score", 0.25, ">=", 0.5)


@interp.claim()
def test_regressed(model):
    interp.check("score", 0.25, ">=", 0.5)


@interp.claim()
def test_tolerated(model):
    interp.check("score", 0.45, ">=", 0.5)
'''


def _entry(claim: str, outcome: str, value: float, cell: str = CELL, **extra: Any) -> dict[str, Any]:
    m = {"name": "score", "value": value, "op": ">=", "threshold": 0.5, **extra}
    return {"claim": f"test_claims.py::{claim}", "variant": None, "cell": cell, "outcome": outcome,
            "measurements": [m]}


BASELINE = [
    _entry("test_holds", "breaks", 0.3),       # broke on the last release, holds now: improvement
    _entry("test_same", "holds", 0.75),        # unchanged
    _entry("test_known", "breaks", 0.25),      # known break: an expected failure
    _entry("test_regressed", "holds", 0.9),    # held, breaks now: the regression
    _entry("test_tolerated", "holds", 0.52, tolerance=0.1),  # breaks within its tolerance
    _entry("test_gone", "holds", 0.9),         # a claim this run does not select
    _entry("test_holds", "holds", 1.0, cell="transformer-1k-adam-sparse-parity-s0"),  # a family not run
]


def _write_baseline(path: Path, entries: list[dict[str, Any]]) -> Path:
    Baseline({(e["claim"], "", e["cell"]): e for e in entries}).write(path)
    return path


def _setup(pytester: pytest.Pytester, entries: list[dict[str, Any]] = BASELINE) -> Path:
    pytester.makepyfile(test_claims=CLAIMS)
    return _write_baseline(pytester.path / "baseline.json", entries)


# -- pure comparison ----------------------------------------------------------

def _now(outcome: str, value: float) -> dict[str, Any]:
    return {"claim": "c::t", "variant": None, "cell": CELL, "outcome": outcome,
            "measurements": [{"name": "score", "value": value, "op": ">=", "threshold": 0.5}]}


def test_classify_each_transition() -> None:
    held: dict[str, Any] = {"outcome": "holds", "measurements": [{"name": "score", "value": 0.6, "op": ">=", "threshold": 0.5}]}
    assert classify(held, _now("breaks", 0.4)).kind == REGRESSION
    assert classify(held, _now("error", 0.4)).kind == REGRESSION
    assert classify({"outcome": "breaks"}, _now("breaks", 0.4)).kind == KNOWN
    assert classify({"outcome": "breaks"}, _now("holds", 0.9)).kind == IMPROVEMENT
    assert classify({"outcome": "untrained"}, _now("holds", 0.9)).kind == IMPROVEMENT
    assert classify(None, _now("breaks", 0.4)).kind == NEW
    tolerant = {"outcome": "holds", "measurements": [{**held["measurements"][0], "tolerance": 0.25}]}
    assert classify(tolerant, _now("breaks", 0.4)).kind == TOLERATED
    assert classify(tolerant, _now("breaks", 0.3)).kind == REGRESSION  # 0.3 is 0.3 away: outside 0.25
    # a break without measurements (plain assert) is never within tolerance
    assert classify(tolerant, {**_now("breaks", 0.4), "measurements": []}).kind == REGRESSION


def test_unselected_entries_are_missing_only_when_strict() -> None:
    base = Baseline({("c::t", "", CELL): {"claim": "c::t", "cell": CELL, "outcome": "holds", "measurements": []},
                     ("c::u", "", CELL): {"claim": "c::u", "cell": CELL, "outcome": "holds", "measurements": []}})
    run: list[dict[str, Any]] = [{"claim": "c::t", "variant": None, "cell": CELL, "outcome": "holds",
                                  "measurements": []}]
    lax = compare(base, run)
    assert not lax.failed and lax.not_run == 1 and "1 not in this run" in lax.counts()
    strict = compare(base, run, strict=True)
    assert strict.failed and [c.key[0] for c in strict.of(MISSING)] == ["c::u"]


def test_file_is_sorted_one_entry_per_line_and_round_trips(tmp_path: Path) -> None:
    path = _write_baseline(tmp_path / "b.json", list(reversed(BASELINE)))
    lines = path.read_text().splitlines()
    entry_lines = [ln for ln in lines if ln.startswith('{"claim"')]
    assert len(entry_lines) == len(BASELINE)
    keys = [(json.loads(ln.rstrip(","))["claim"], json.loads(ln.rstrip(","))["cell"]) for ln in entry_lines]
    assert keys == sorted(keys)
    assert parse(json.loads(path.read_text()), "b.json").entries == Baseline(
        {(e["claim"], "", e["cell"]): e for e in BASELINE}).entries


@pytest.mark.parametrize("doc, message", [
    ([], "expected a JSON object"),
    ({"format": "pytest-interp-baseline", "schema_version": 9, "entries": []}, "schema version 9"),
    ({"format": "pytest-interp-baseline", "schema_version": 1, "entries": [{"claim": "c"}]}, "'cell' must be"),
    ({"format": "pytest-interp-baseline", "schema_version": 1,
      "entries": [{**_entry("t", "holds", 1.0), "outcome": "fine"}]}, "unknown outcome"),
    ({"format": "pytest-interp-baseline", "schema_version": 1,
      "entries": [_entry("t", "holds", 1.0, tolerance=-1)]}, "'tolerance' must be a number >= 0"),
    ({"something": "else"}, "neither a baseline"),
])
def test_malformed_baselines_are_one_line_errors(doc: Any, message: str) -> None:
    with pytest.raises(BaselineError, match=message):
        parse(doc, "b.json")


# -- in pytest ------------------------------------------------------------------

pytestmark_store = pytest.mark.usefixtures("store_env")


@pytestmark_store
def test_regression_fails_known_break_expected_improvement_reported(pytester: pytest.Pytester) -> None:
    base = _setup(pytester)
    page = pytester.path / "report.html"
    result = pytester.runpytest("--interp-models=tiny", f"--interp-baseline={base}", "-rfx", f"--interp-html={page}")
    result.assert_outcomes(passed=2, failed=1, xfailed=2)
    html = page.read_text(encoding="utf-8")
    section = html[html.index('<section id="baseline">'):html.index("</section>", html.index('<section id="baseline">'))]
    rows = section.split("<tr ")[1:]
    assert [r.split('"')[1] for r in rows] == ["change-regression", "change-tolerated", "change-known",
                                               "change-improvement"], section
    assert "test_claims.py::test_regressed" in rows[0] and "score = 0.25" in rows[0]
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        f"REGRESSION   test_claims.py::test_regressed @ {CELL}: holds -> breaks "
        "(score = 0.25, expected >= 0.5, baseline 0.9)",
        f"tolerated    test_claims.py::test_tolerated @ {CELL}: holds -> breaks (within tolerance: score 0.45 vs *",
        f"known break  test_claims.py::test_known @ {CELL}: breaks -> breaks",
        f"improvement  test_claims.py::test_holds @ {CELL}: breaks -> holds",
        "baseline: 1 regression, 1 tolerated, 1 known, 1 improvement, 1 unchanged, 2 not in this run",
        "interp: FAILED against the baseline: 1 regression",
    ])
    result.stdout.fnmatch_lines(["XFAIL test_claims.py::test_known*a known break (it broke in the baseline too)"])
    assert "FAILED test_claims.py::test_regressed" in result.stdout.str()
    assert "FAILED test_claims.py::test_known" not in result.stdout.str()


@pytestmark_store
def test_subset_runs_do_not_call_unselected_entries_missing_unless_strict(pytester: pytest.Pytester) -> None:
    base = _setup(pytester)
    subset = ("--interp-models=tiny", f"--interp-baseline={base}", "-k", "not regressed")
    result = pytester.runpytest(*subset)
    result.assert_outcomes(passed=2, xfailed=2)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["baseline: 1 tolerated, 1 known, 1 improvement, 1 unchanged, 3 not in this run"])
    assert "MISSING" not in result.stdout.str()
    strict = pytester.runpytest(*subset, "--interp-baseline-strict")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.stdout.fnmatch_lines([
        "interp: FAILED against the baseline: 3 missing entries",
    ], consecutive=False)
    strict.stdout.fnmatch_lines([
        f"MISSING      test_claims.py::test_gone @ {CELL}: holds -> not run",
        "MISSING      test_claims.py::test_holds @ transformer-1k-adam-sparse-parity-s0: holds -> not run",
        f"MISSING      test_claims.py::test_regressed @ {CELL}: holds -> not run",
    ])


@pytestmark_store
def test_update_writes_a_sorted_baseline_keeping_tolerances_and_unrun_entries(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIMS)
    base = pytester.path / "gate" / "baseline.json"
    first = pytester.runpytest("--interp-models=tiny", f"--interp-baseline={base}", "--interp-update-baseline")
    first.stdout.fnmatch_lines([f"interp: baseline updated: {base} (5 entries)"])
    doc = json.loads(base.read_text())
    assert [e["claim"].split("::")[1] for e in doc["entries"]] == \
        ["test_holds", "test_known", "test_regressed", "test_same", "test_tolerated"]
    assert {e["cell"] for e in doc["entries"]} == {CELL}
    assert "test_claims.py[" not in base.read_text()  # keyed by claim id and cell key, not node ids
    # a tolerance added by hand survives the next update; a subset update keeps entries it did not run
    text = base.read_text().replace('"value": 0.45, "op": ">=", "threshold": 0.5}',
                                    '"value": 0.45, "op": ">=", "threshold": 0.5, "tolerance": 0.02}')
    base.write_text(text)
    again = pytester.runpytest("--interp-models=tiny", f"--interp-baseline={base}", "--interp-update-baseline",
                               "-k", "tolerated or holds")
    again.assert_outcomes(passed=1, xfailed=1)
    assert again.ret == pytest.ExitCode.OK
    assert base.read_text() == text  # nothing changed, byte for byte: clean diffs


@pytestmark_store
@pytest.mark.parametrize("args, message", [
    (["--interp-baseline=nope.json"], "baseline * does not exist (create it with --interp-update-baseline)"),
    (["--interp-update-baseline"], "*--interp-update-baseline needs --interp-baseline=FILE"),
    (["--interp-baseline=bad.json"], "*baseline * is not valid JSON*"),
])
def test_baseline_usage_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    pytester.makepyfile(test_claims=CLAIMS)
    pytester.path.joinpath("bad.json").write_text("{not json")
    result = pytester.runpytest("--interp-models=tiny", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}"])


def test_with_xdist_and_junit(pytester: pytest.Pytester, store_env: Path) -> None:
    pytest.importorskip("xdist")
    base = _setup(pytester)
    xml = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess("--interp-models=tiny", f"--interp-baseline={base}", "-n", "2",
                                           f"--junitxml={xml}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1, xfailed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"REGRESSION   test_claims.py::test_regressed @ {CELL}: holds -> breaks*",
                                 "baseline: 1 regression, 1 tolerated, 1 known, 1 improvement, 1 unchanged, "
                                 "2 not in this run"])
    import xml.etree.ElementTree as ET

    # xdist may add "@group" to the names: the properties carry the stable keys
    cases = {str(c.get("name")).split("@")[0]: {p.get("name"): p.get("value") for p in c.iter("property")}
             for c in ET.parse(xml).getroot().iter("testcase")}
    assert cases["test_regressed[mlp-1k-adam-s0]"]["interp.baseline"] == "regression"
    assert cases["test_known[mlp-1k-adam-s0]"]["interp.baseline"] == "known"
    assert cases["test_holds[mlp-1k-adam-s0]"]["interp.cell"] == CELL
