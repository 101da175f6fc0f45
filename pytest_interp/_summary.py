"""The controller's side of a run: it receives every report (also from xdist workers) and writes
the terminal summary. Kept apart from the hooks; only `_plugin` calls it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from ._session import InterpSession


class Collector:
    """Receives reports (also from xdist workers) in the process that writes the reports: results
    travel on `report.interp`, counts and progress lines on `report.interp_stats`."""

    def __init__(self, state: Callable[[], "InterpSession"]) -> None:
        self.state = state  # created on first need: a run without claims never builds one

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        from ._progress import Progress

        interp = getattr(report, "interp", None)
        stats = getattr(report, "interp_stats", None)
        if interp is None and stats is None:
            return
        state = self.state()
        if interp is not None:
            state.add_result(interp)
        if stats is not None:
            state.add_stats(stats["trained"], stats["loaded"], stats["forward_passes"])
            state.not_stored.update(stats.get("not_stored") or [])
            if stats.get("lines") and isinstance(state.listener, Progress):
                gateway = getattr(getattr(report, "node", None), "gateway", None)
                state.listener.relay(getattr(gateway, "id", "worker"), stats["lines"])


def write_summary(tr: Any, state: "InterpSession", stop: str | None) -> None:
    """The transfer matrices, then one line each: what was trained and loaded, whether the run
    stopped early or left cells out, and where the results file is."""
    from ._report.terminal import render

    enc = (getattr(sys.stdout, "encoding", None) or "").lower()
    tr.write_sep("=", "interp: transfer matrices")
    for line in render(state.results, unicode="utf" in enc, quorum=state.config.quorum):
        tr.write_line(line)
    st = state.stats()
    tr.write_line(f"interp: {st['cells_trained']} cells trained, {st['cells_loaded']} loaded "
                  f"(store {state.config.store_dir})")
    if stop:
        tr.write_line(f"interp: the run stopped early ({stop}): these results do not cover the whole grid, "
                      "and the results file says so")
    if state.config.stored_only and state.not_stored:
        tr.write_line(f"interp: stored-only: {len(state.not_stored)} cells the claims need are not in the store; "
                      "their claims were deselected, and the results file lists them (`not_stored`)")
    if state.config.json_path is not None:
        tr.write_line(f"interp: results written to {state.config.json_path}")
