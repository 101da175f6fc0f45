"""Scale trends on planted data: the slope per decade and the projected crossing are exact."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pytest_interp._report.results import build
from pytest_interp._report.trend import crossing, describe, fit_line, terminal_lines, trends


def _v(family: str, params: int, value: float, op: str = ">=", threshold: float = 0.9,
       optimizer: str = "adam", name: str = "probe_accuracy") -> dict[str, Any]:
    return {"claim": "c.py::t", "variant": None, "family": family, "size": f"{params // 1000}k", "optimizer": optimizer,
            "task": "sparse-parity", "params": params, "verdict": "holds",
            "measurements": [{"name": name, "mean": value, "low": value, "high": value, "n": 1,
                              "threshold": threshold, "op": op}]}


def test_fit_recovers_a_planted_line() -> None:
    xs = [3.0, 4.0, 5.0, 6.0]
    slope, intercept, r2 = fit_line(xs, [0.2 + 0.15 * x for x in xs])
    assert slope == pytest.approx(0.15) and intercept == pytest.approx(0.2) and r2 == pytest.approx(1.0)
    with pytest.raises(ValueError):
        fit_line([3.0, 3.0], [1.0, 2.0])


def test_slope_and_projected_crossing_on_planted_verdicts() -> None:
    # value = 1.3 - 0.1 * log10(params): falls 0.1 per decade, meets 0.9 at 10^4 params
    planted = [_v("mlp", p, 1.3 - 0.1 * math.log10(p)) for p in (1_000, 100_000)]
    # lstm: rises 0.05 per decade from 0.6 at 1k, so it reaches 0.9 at 10^(3 + 0.3/0.05) = 10^9
    planted += [_v("lstm", p, 0.6 + 0.05 * (math.log10(p) - 3)) for p in (1_000, 10_000, 100_000)]
    by = {t["family"]: t for t in trends(planted)}
    mlp, lstm = by["mlp"], by["lstm"]
    assert mlp["slope_per_decade"] == pytest.approx(-0.1)
    assert mlp["crossing_log10_params"] == pytest.approx(4.0)
    assert mlp["crossing_params"] == 10_000 and mlp["holds_on"] == "below"
    assert lstm["slope_per_decade"] == pytest.approx(0.05)
    assert lstm["crossing_log10_params"] == pytest.approx(9.0)
    assert lstm["crossing_params"] == pytest.approx(1e9, rel=1e-6) and lstm["holds_on"] == "above"
    assert [p["params"] for p in lstm["points"]] == [1_000, 10_000, 100_000]
    assert "projected" in describe(lstm) and "within the sizes run" in describe(mlp)
    assert terminal_lines(trends(planted))[0] == "c.py::t"


def test_no_trend_from_one_size_and_no_crossing_when_flat() -> None:
    assert trends([_v("mlp", 1_000, 0.95)]) == []
    (flat,) = trends([_v("mlp", 1_000, 0.95), _v("mlp", 10_000, 0.95)])
    assert flat["crossing_log10_params"] is None and flat["crossing_params"] is None
    assert "never crosses" in describe(flat)
    assert crossing(0.1, 0.0, 0.5, "<=") == (pytest.approx(5.0), "below")


def test_far_crossings_are_reported_in_log10_only() -> None:
    (t,) = trends([_v("mlp", 1_000, 0.5), _v("mlp", 10_000, 0.5001)])
    assert t["crossing_log10_params"] > 18 and t["crossing_params"] is None
    assert "10^" in describe(t)


def test_results_file_carries_trends() -> None:
    rows = [{"claim": "c.py::t", "variant": None, "cell": f"mlp-{s}-adam-t-s0", "family": "mlp", "size": s,
             "params": p, "optimizer": "adam", "task": "t", "seed": 0, "outcome": "holds",
             "measurements": [{"name": "m", "value": v, "threshold": 0.5, "op": ">="}]}
            for s, p, v in (("1k", 1_000, 0.9), ("10k", 10_000, 0.7))]
    (t,) = build(rows, {}, {})["trends"]
    assert t["slope_per_decade"] == pytest.approx(-0.2) and t["crossing_params"] == pytest.approx(10 ** 5)
