"""Measurements: what a claim measured, against which threshold, recorded even when it breaks.

`check` is the one-line helper claims use: it records and asserts. The plugin opens
a recording around each claim; outside pytest, `check` simply asserts.
"""

from __future__ import annotations

import contextlib
import math
import operator
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterator

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
}


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float
    threshold: float
    op: str
    null: float | None = None

    @property
    def holds(self) -> bool:
        return OPS[self.op](self.value, self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_recording: ContextVar[list[Measurement] | None] = ContextVar("pytest_interp_recording", default=None)


@contextlib.contextmanager
def recording() -> Iterator[list[Measurement]]:
    """Collect the measurements `check` makes inside the block."""
    sink: list[Measurement] = []
    token = _recording.set(sink)
    try:
        yield sink
    finally:
        _recording.reset(token)


def check(name: str, value: float, op: str, threshold: float, *, null: float | None = None) -> float:
    """Record a measurement and assert it: `check("probe_accuracy", acc, ">=", 0.9)`.

    `null` is the same measurement under the claim's own null (a random rotation, a random
    direction of the same norm, a shuffled-label model); reports show it beside the value.
    """
    __tracebackhide__ = True
    if op not in OPS:
        raise ValueError(f"unknown comparison {op!r}; use one of {', '.join(OPS)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"measurement {name!r} is {value}: the model or instrument produced a non-finite number")
    if null is not None:
        null = float(null)
        if not math.isfinite(null):
            raise ValueError(f"null of measurement {name!r} is {null}: not a finite number")
    m = Measurement(str(name), value, float(threshold), op, null)
    sink = _recording.get()
    if sink is not None:
        sink.append(m)
    if not m.holds:  # an explicit raise: pytest rewrites plugin asserts into noisy messages
        raise AssertionError(f"{name} = {value:.4g}, expected {op} {threshold:g}")
    return value
