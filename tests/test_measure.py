"""`check` records and asserts; non-finite numbers are errors, not breaks."""

from __future__ import annotations

import math

import pytest

from pytest_interp._measure import check, recording


def test_check_records_holding_and_breaking_measurements() -> None:
    with recording() as sink:
        assert check("a", 0.95, ">=", 0.9) == 0.95
        with pytest.raises(AssertionError, match=r"b = 0.1, expected > 0.5"):
            check("b", 0.1, ">", 0.5)
    assert [(m.name, m.holds) for m in sink] == [("a", True), ("b", False)]


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_values_are_errors(value: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        check("x", value, "<", 1)


def test_unknown_comparison() -> None:
    with pytest.raises(ValueError, match="unknown comparison"):
        check("x", 1, "=>", 1)


def test_check_outside_a_recording_still_asserts() -> None:
    with pytest.raises(AssertionError):
        check("x", 1, "<", 0)
