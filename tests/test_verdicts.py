"""Verdicts over seeds: aggregation, quorum, intervals, vacuous claims."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_interp._errors import ConfigError
from pytest_interp._verdicts import Quorum, aggregate, interval, parse_quorum


def _r(outcome: str, seed: int, value: float | None = None, control: str | None = None, **kw: Any) -> dict:
    ms = [] if value is None else [{"name": "m", "value": value, "threshold": 0.5, "op": ">="}]
    return {"claim": "c", "variant": None, "family": "mlp", "size": "1k", "optimizer": "adam", "task": "t",
            "seed": seed, "outcome": outcome, "measurements": ms,
            "control": {"outcome": control} if control else None, **kw}


@pytest.mark.parametrize("outcomes, quorum, verdict, holding", [
    (["holds"] * 3, Quorum(), "holds", 3),
    (["holds", "holds", "breaks"], Quorum(), "mixed 2/3", 2),
    (["holds", "holds", "breaks"], parse_quorum("0.5"), "holds", 2),
    (["holds", "breaks", "breaks"], parse_quorum("0.5"), "breaks", 1),
    (["holds", "breaks", "breaks", "holds"], parse_quorum("3"), "mixed 2/4", 2),
    (["holds", "breaks", "breaks", "holds"], parse_quorum("2"), "holds", 2),
    (["breaks", "untrained", "breaks"], Quorum(), "mixed 0/3", 0),
    (["breaks", "untrained", "breaks"], parse_quorum("2"), "breaks", 0),
    (["untrained", "n/a"], Quorum(), "untrained", 0),
    (["n/a", "n/a"], Quorum(), "n/a", 0),
    (["error", "untrained"], Quorum(), "error", 0),
])
def test_aggregation_and_quorum(outcomes: list[str], quorum: Quorum, verdict: str, holding: int) -> None:
    (v,) = aggregate([_r(o, i) for i, o in enumerate(outcomes)], quorum)
    assert (v["verdict"], v["seeds_holding"], v["seeds_run"]) == (verdict, holding, len(outcomes))


def test_one_verdict_per_group() -> None:
    results = [_r("holds", 0), _r("holds", 1), {**_r("breaks", 0), "size": "10k"}]
    verdicts = aggregate(results)
    assert sorted((v["size"], v["verdict"]) for v in verdicts) == [("10k", "breaks"), ("1k", "holds")]


def test_measurement_mean_and_interval() -> None:
    (v,) = aggregate([_r("holds", i, value=x) for i, x in enumerate([0.6, 0.7, 0.8])])
    (m,) = v["measurements"]
    assert m["mean"] == pytest.approx(0.7) and m["low"] < 0.7 < m["high"] and m["n"] == 3


def test_planted_vacuous_claim_is_flagged() -> None:
    vac = aggregate([_r("holds", i, control="holds") for i in range(3)])[0]
    real = aggregate([_r("holds", i, control="breaks") for i in range(3)])[0]
    assert vac["vacuous"] and vac["verdict"] == "holds"
    assert not real["vacuous"] and real["control"] == "breaks"


@pytest.mark.parametrize("n", [3, 8, 20])
def test_interval_covers_the_true_mean(n: int) -> None:
    rng = random.Random(n)
    covered = 0
    for trial in range(200):
        xs = [rng.gauss(2.0, 1.5) for _ in range(n)]
        _, lo, hi = interval(xs, seed=trial)
        covered += lo <= 2.0 <= hi
    assert covered / 200 >= 0.90


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=12))
def test_interval_contains_the_mean(xs: list[float]) -> None:
    mean, lo, hi = interval(xs)
    assert lo - 1e-6 * (1 + abs(mean)) <= mean <= hi + 1e-6 * (1 + abs(mean))


@pytest.mark.parametrize("text", ["0", "1.5", "-1", "x", "0%", "150%"])
def test_bad_quorum(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_quorum(text)


def test_quorum_forms() -> None:
    assert parse_quorum("50%").needed(4) == 2
    assert parse_quorum("0.5").needed(3) == 2
    assert parse_quorum("1.0").needed(3) == 3 and str(Quorum()) == "all"
    assert parse_quorum("1").needed(3) == 1


def test_metric_names_put_the_most_measured_first_and_keep_check_order_on_ties() -> None:
    from pytest_interp._verdicts import metric_names

    def measured(*names: str) -> dict[str, Any]:
        return {"measurements": [{"name": n, "value": 1.0} for n in names]}

    # a claim that broke at its first check recorded only that one: it is the one every cell has
    records = [measured("share"), measured("share", "sibling", "shared"), measured("share", "sibling", "shared"),
               {"measurements": None}, {}]
    assert metric_names(records) == ["share", "sibling", "shared"]
    assert metric_names([measured("b", "a"), measured("a")]) == ["a", "b"]
    assert metric_names([measured("z", "y")]) == ["z", "y"] and metric_names([]) == []
