"""Outcomes, the results-file contract, the store's second-run rule and the terminal matrix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interp_results import read_results, without_timings

CLAIMS = '''
import pytest_interp as interp


@interp.claim(needs=["hidden"])
def test_holds(model):
    """Parity decodes at the last hidden site."""
    acc = interp.logistic_probe(model.activations("hidden", "last"), model.data.latents["parity"])
    interp.check("probe_accuracy", acc, ">=", 0.9)


@interp.claim(needs=["embed"])
def test_breaks(model):
    acc = interp.logistic_probe(model.activations("embed"), model.data.latents["parity"])
    interp.check("probe_accuracy", acc, ">=", 0.9)


@interp.claim(needs=["attn.head"])
def test_needs_heads(model):
    raise AssertionError("must never run on a model without attention heads")


@interp.claim()
def test_raises(model):
    raise ValueError("instrument exploded")


@interp.claim()
def test_plain_assert(model):
    assert model.params > 10 ** 9, "too small"
'''

ZOO = """
[grid]
families = ["mlp"]
sizes = ["1k"]
optimizers = ["adam", "sgd"]

[hparams.sgd]   # a learning rate of zero never trains: every sgd cell is `untrained`
lr = 0.0

[budget]
steps = 300
"""

pytestmark = pytest.mark.usefixtures("store_env")


def _run(pytester: pytest.Pytester, *extra: str) -> tuple[pytest.RunResult, dict]:
    pytester.makepyfile(test_claims=CLAIMS)
    pytester.path.joinpath("zoo.toml").write_text(ZOO)
    out = pytester.path / "results.json"
    result = pytester.runpytest("--interp-models=zoo.toml", f"--interp-json={out}", "-rs", *extra)
    return result, read_results(out)


def test_five_outcomes_in_pytest_and_in_the_results_file(pytester: pytest.Pytester) -> None:
    result, doc = _run(pytester)
    outcome = {(r["claim"].split("::")[1], r["optimizer"]): r for r in doc["results"]}
    assert outcome[("test_holds", "adam")]["outcome"] == "holds"
    assert outcome[("test_breaks", "adam")]["outcome"] == "breaks"
    assert outcome[("test_plain_assert", "adam")]["outcome"] == "breaks"
    assert outcome[("test_plain_assert", "adam")]["reason"].startswith("too small")
    assert outcome[("test_needs_heads", "adam")]["outcome"] == "n/a"
    assert "attn.head" in outcome[("test_needs_heads", "adam")]["reason"]
    assert outcome[("test_raises", "adam")]["outcome"] == "error"
    assert "ValueError: instrument exploded" in outcome[("test_raises", "adam")]["reason"]
    for name in ("test_holds", "test_breaks", "test_raises", "test_plain_assert"):
        assert outcome[(name, "sgd")]["outcome"] == "untrained"
        assert "test accuracy" in outcome[(name, "sgd")]["reason"]
    # n/a is decided before training is even looked at: also n/a on the untrained cell
    assert outcome[("test_needs_heads", "sgd")]["outcome"] == "n/a"
    # pytest's own summary: break = failed, n/a and untrained = skipped with reasons, error = error
    result.assert_outcomes(passed=1, failed=2, skipped=6, errors=1)
    result.stdout.fnmatch_lines(["*SKIPPED*n/a: mlp has no attn.head site*",
                                 "*SKIPPED*untrained: test accuracy*< target 0.95*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_results_file_contract(pytester: pytest.Pytester) -> None:
    _, doc = _run(pytester)
    assert doc["schema_version"] == 1
    assert {"cells_trained", "cells_loaded"} <= set(doc["stats"])
    assert len(doc["results"]) == 5 * 2
    for r in doc["results"]:
        assert r["claim"].startswith("test_claims.py::test_") and "[" not in r["claim"]
        assert r["family"] == "mlp" and r["size"] == "1k" and r["task"] == "sparse-parity" and r["seed"] == 0
        assert r["optimizer"] in ("adam", "sgd")
        assert isinstance(r["params"], int) and 750 <= r["params"] <= 1250
        assert r["outcome"] in ("holds", "breaks", "n/a", "untrained", "error")
        prov = r["provenance"]
        assert len(prov["claim_sha256"]) == 64
        assert prov["pytest_interp"] and prov["torch"]
        for m in r["measurements"]:
            assert {"name", "value", "threshold", "op"} <= set(m) <= {"name", "value", "threshold", "op", "null"}
    by = {(r["claim"].split("::")[1], r["optimizer"]): r for r in doc["results"]}
    holds, breaks = by[("test_holds", "adam")], by[("test_breaks", "adam")]
    assert holds["measurements"][0]["name"] == "probe_accuracy" and holds["measurements"][0]["value"] >= 0.9
    # a break records its measurement too
    assert breaks["measurements"][0]["value"] < 0.9 and breaks["measurements"][0]["op"] == ">="
    assert len(holds["provenance"]["checkpoint_sha256"]) == 64 and len(holds["provenance"]["checkpoint_key"]) == 64
    assert holds["provenance"]["claim_sha256"] != breaks["provenance"]["claim_sha256"]


def test_second_run_trains_nothing(pytester: pytest.Pytester, tmp_path: Path) -> None:
    store = tmp_path / "fresh-store"
    first, doc1 = _run(pytester, f"--interp-store={store}")
    assert doc1["stats"]["cells_trained"] == 2 and doc1["stats"]["cells_loaded"] == 0
    first.stdout.fnmatch_lines(["interp: 2 cells trained, 0 loaded*"])
    second, doc2 = _run(pytester, f"--interp-store={store}")
    assert doc2["stats"]["cells_trained"] == 0 and doc2["stats"]["cells_loaded"] == 2
    second.stdout.fnmatch_lines(["interp: 0 cells trained, 2 loaded*"])
    # same results, timings and stats aside
    assert doc1["results"] == doc2["results"]


def test_a_corrupt_checkpoint_is_rebuilt(pytester: pytest.Pytester, tmp_path: Path) -> None:
    store = tmp_path / "store"
    _, doc1 = _run(pytester, f"--interp-store={store}", "-k", "holds")
    files = sorted(store.rglob("*.safetensors"))
    assert len(files) == 2
    files[0].write_bytes(files[0].read_bytes()[:100])  # torn write
    _, doc2 = _run(pytester, f"--interp-store={store}", "-k", "holds")
    assert doc2["stats"]["cells_trained"] == 1 and doc2["stats"]["cells_loaded"] == 1
    assert without_timings(doc1) == without_timings(doc2)


def test_terminal_matrix_and_axis_lines(pytester: pytest.Pytester) -> None:
    result, _ = _run(pytester)
    out = result.stdout.str()
    assert "interp: transfer matrices" in out
    result.stdout.fnmatch_lines([
        "test_claims.py::test_holds  [[]task sparse-parity[]]  1 holds, 1 untrained",
        "*1k",
        "  mlp  adam  *",
        "  mlp  sgd   *",
        "  family:    holds for mlp",
        "  size:      holds at every size (1k)",
        "  optimizer: holds under adam; untrained under sgd",
    ])
    result.stdout.fnmatch_lines(["  optimizer: breaks under adam; untrained under sgd"])
    result.stdout.fnmatch_lines(["legend:*holds*breaks*n/a*untrained*error*"])


def test_not_applicable_inside_the_claim_body(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims='''
import pytest_interp as interp

def test_asks_for_a_missing_site(model):
    model.site("attn.pattern", 0)
''')
    out = pytester.path / "r.json"
    result = pytester.runpytest("--interp-models=tiny", f"--interp-json={out}")
    result.assert_outcomes(skipped=1)
    (r,) = read_results(out)["results"]
    assert r["outcome"] == "n/a" and "attn.pattern" in r["reason"]


def test_marker_form_of_a_claim(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims='''
import pytest

@pytest.mark.interp(task="sparse-parity", needs=["conv.channel"])
def test_needs_conv(model):
    raise AssertionError("never runs")
''')
    result = pytester.runpytest("--interp-models=tiny", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*n/a: mlp has no conv.channel site*"])


def test_a_claim_restricted_to_families_is_na_elsewhere_before_training(pytester: pytest.Pytester,
                                                                        tmp_path: Path) -> None:
    pytester.makepyfile(test_claims='''
import pytest
import pytest_interp as interp

@interp.claim(families=["cnn"])
def test_cnn_only(model):
    raise AssertionError("never runs on an mlp")

@pytest.mark.interp(families=["transformer"])
def test_marker_form(model):
    raise AssertionError("never runs on an mlp")
''')
    out = tmp_path / "r.json"
    result = pytester.runpytest("--interp-models=tiny", "-rs", f"--interp-json={out}",
                                f"--interp-store={tmp_path / 'empty-store'}")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*n/a: the claim applies to cnn only*", "*n/a: the claim applies to transformer only*"])
    doc = read_results(out)
    assert doc["stats"]["cells_trained"] == 0 and {r["outcome"] for r in doc["results"]} == {"n/a"}


def test_results_are_deterministic(pytester: pytest.Pytester, tmp_path: Path) -> None:
    _, a = _run(pytester, f"--interp-store={tmp_path / 'a'}")
    _, b = _run(pytester, f"--interp-store={tmp_path / 'b'}")  # trains again from scratch
    assert without_timings(a) == without_timings(b)


def test_unknown_task_in_a_claim_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims='''
import pytest_interp as interp

@interp.claim(task="no-such-task")
def test_x(model):
    pass
''')
    result = pytester.runpytest("--interp-models=tiny")
    assert result.ret != 0
    assert "unknown task 'no-such-task'" in result.stdout.str() + result.stderr.str()


def test_non_claim_tests_are_untouched(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    out = pytester.path / "r.json"
    result = pytester.runpytest(f"--interp-json={out}")
    result.assert_outcomes(passed=1)
    assert "transfer matrices" not in result.stdout.str()
    assert json.loads(out.read_text())["results"] == []


def test_claims_parametrized_beyond_the_model_keep_unique_entries(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims='''
import pytest
import pytest_interp as interp

@pytest.mark.parametrize("depth", [0, -1])
@interp.claim(needs=["hidden"])
def test_probe_at(model, depth):
    acc = interp.logistic_probe(model.activations("hidden", depth), model.data.latents["parity"])
    interp.check("probe_accuracy", acc, ">=", 0.0)
''')
    out = pytester.path / "r.json"
    result = pytester.runpytest("--interp-models=tiny", f"--interp-json={out}")
    result.assert_outcomes(passed=2)
    variants = sorted(r["variant"] for r in read_results(out)["results"])
    assert variants == ["depth=-1", "depth=0"]
    result.stdout.fnmatch_lines(["test_claims.py::test_probe_at[[]depth=-1[]]*", "*"])


def test_a_conftest_model_fixture_of_its_own_is_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('''
import pytest

@pytest.fixture
def model():
    return "theirs"
''')
    pytester.makepyfile(test_x="def test_x(model):\n    assert model == 'theirs'\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_run_that_stops_early_says_so_in_the_results_file(pytester: pytest.Pytester) -> None:
    result, doc = _run(pytester, "-x")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert doc["stopped_early"] == "stopping after 1 failures" and len(doc["results"]) < 10
    result.stdout.fnmatch_lines(["interp: the run stopped early (stopping after 1 failures)*"])
    _, whole = _run(pytester)
    assert "stopped_early" not in whole and len(whole["results"]) == 10


def test_an_interrupted_run_says_so_in_the_results_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims='''
import pytest_interp as interp

@interp.claim()
def test_interrupted(model):
    raise KeyboardInterrupt
''')
    out = pytester.path / "results.json"
    result = pytester.runpytest_subprocess("--interp-models=mlp", "--interp-sizes=1k", "--interp-optimizers=adam",
                                           f"--interp-json={out}")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert read_results(out)["stopped_early"] == "interrupted"
