"""Strategies for task inputs; worst-case claims find and shrink counterexamples."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_interp import strategies as S
from pytest_interp._tasks import TASKS, make_task

from interp_results import read_results


@pytest.mark.parametrize("name", TASKS.names())
def test_inputs_are_valid_for_every_task(name: str) -> None:
    task = make_task(name)
    row = task.test_set().x[0]

    @settings(max_examples=15, deadline=None)
    @given(S.inputs(task))
    def check(x: torch.Tensor) -> None:
        assert x.shape == row.shape and x.dtype == row.dtype
        if task.spec.modality == "tokens":
            assert 0 <= int(x.min()) and int(x.max()) < task.spec.vocab

    check()


@pytest.mark.parametrize("name", TASKS.names())
def test_perturbations_stay_close(name: str) -> None:
    task = make_task(name)
    x0 = task.test_set().x[0]

    @settings(max_examples=15, deadline=None)
    @given(S.perturbations(x0, task, max_changes=2, epsilon=0.05))
    def check(x: torch.Tensor) -> None:
        assert x.shape == x0.shape
        if task.spec.modality == "tokens":
            assert int((x != x0).sum()) <= 2
        else:
            assert float((x - x0).abs().max()) <= 0.05 + 1e-6

    check()


def test_repeated_sequences_always_contain_a_copy() -> None:
    @settings(max_examples=20, deadline=None)
    @given(S.repeated_sequences("repeated-tokens"))
    def check(x: torch.Tensor) -> None:
        found = any(torch.equal(x[s: s + n], x[s + n: s + 2 * n])
                    for n in range(4, 17) for s in range(0, 33 - 2 * n))
        assert found

    check()


def test_held_out_examples_come_from_the_test_set() -> None:
    task = make_task("digits")
    xs = task.test_set().x

    @settings(max_examples=5, deadline=None)
    @given(S.held_out_examples(task))
    def check(x: torch.Tensor) -> None:
        assert any(torch.equal(x, row) for row in xs)

    check()


@pytest.mark.usefixtures("store_env")
def test_a_planted_counterexample_is_found_shrunk_and_stored(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims='''
from hypothesis import given
import pytest_interp as interp
from pytest_interp import strategies as S

@interp.claim()
@given(x=S.inputs("sparse-parity"))
def test_no_input_has_two_set_bits_in_a_row(model, x):
    """A planted false claim: its minimal counterexample is [1, 1, 0, ..., 0]."""
    assert not any(a == b == 1 for a, b in zip(x.tolist(), x.tolist()[1:]))
''')
    out = pytester.path / "r.json"
    result = pytester.runpytest("--interp-models=tiny", "--interp-no-controls", f"--interp-json={out}",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "Falsifying example" in text or "Failing test case" in text
    (r,) = read_results(out)["results"]
    assert r["outcome"] == "breaks"
    # shrunk to its minimal form: exactly two set bits, next to each other
    shown = r["counterexample"].split("x=tensor(")[1].split(")")[0]
    bits = [int(b) for b in shown.strip("[]").split(",")]
    assert sum(bits) == 2 and "1, 1" in shown
    assert "FailedHealthCheck" not in result.stdout.str() and "HealthCheck" not in result.stdout.str()


def test_ci_profile_is_derandomized_without_a_database(pytester: pytest.Pytester,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_x='''
from hypothesis import settings

def test_profile():
    s = settings.default
    assert s.derandomize and s.database is None
''')
    monkeypatch.setenv("CI", "true")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
