"""Training progress in the terminal while cells build (and an estimate before), and the trained/loaded tallies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import pytest

    from ._grid import Cell


def outcome_of_training(metrics: dict[str, Any]) -> str:
    """How a training run ended, in the words of the progress lines."""
    if metrics.get("diverged"):
        return "diverged"
    return f"train loss {metrics['train_loss']:.4f}, test accuracy {metrics['test_accuracy']:.3f}"


def training_estimate(zoo: Any, cells: Sequence["Cell"], sizes: Sequence[str] = ()) -> str:
    """' (about 2.5 CPU-hours, by ...)': from stored training times (`Zoo.training_seconds`, which may
    scale from the run's other `sizes`), so a long run is planned, not guessed."""
    times = [zoo.training_seconds(c, sizes=sizes) for c in cells]
    known = [t for t in times if t is not None]
    going_on = sum(zoo.snapshot_step(c) is not None for c in cells)
    snapshots = f"{going_on} go on from where an interrupted run stopped" if going_on else ""
    if not known:
        return f" ({snapshots})" if snapshots else ""
    total = sum(known)
    amount = f"{total / 3600:.1f} CPU-hours" if total >= 5400 else \
        f"{round(total / 60)} CPU-minutes" if total >= 90 else "a CPU-minute or less"
    which = "" if len(known) == len(times) else f"{len(known)} of them "
    snapshots = f"; {snapshots}" if snapshots else ""
    return f" ({which}about {amount}, by stored training times of other seeds, Adam twins or other sizes{snapshots})"


class Progress:
    """Training progress lines in the terminal; counts cell events for the results file.

    An xdist worker cannot write to the terminal (its lines would interleave, and xdist does not
    show them): it queues one line per trained cell, which travels on the next test report to the
    controller, where `relay` prints it. So a long `-n` run still says what it has trained.
    """

    def __init__(self, config: pytest.Config, pending: pytest.StashKey[dict], worker: bool) -> None:
        self.config = config
        self.pending = pending
        self.worker = worker
        self.index = 0
        self.total = 0
        self.relayed = 0

    def __call__(self, event: str, cell: "Cell", info: Any) -> None:
        pending = self.config.stash[self.pending]
        if event == "trained":
            pending["trained"].append(cell.key)
            if self.worker:
                m = info["metrics"]
                pending["lines"].append(f"trained cell {cell.key} in {m['steps']} steps, "
                                        f"{m.get('seconds', 0):.1f}s: {outcome_of_training(m)}")
        elif event == "loaded":
            pending["loaded"].append(cell.key)
        elif event == "train-resumed" and self.worker:
            pending["lines"].append(f"cell {cell.key} goes on from step {info['resumed']}/{info['steps']}, "
                                    "where an interrupted run left its snapshot")
        tr = self._terminal()
        if tr is None or self.worker:
            return
        where = f"{self.index}/{self.total} " if self.total else ""
        if event == "train-start":
            tr.write_line(f"[interp] training cell {where}{cell.key} ({info['params']} params)")
        elif event == "train-resumed":
            tr.write_line(f"[interp]   going on from step {info['resumed']}/{info['steps']}, "
                          "where an interrupted run left its snapshot")
        elif event == "train-progress" and self.config.option.verbose > 0:
            tr.write_line(f"[interp]   step {info['step']}/{info['steps']} loss {info['loss']:.4f} "
                          f"acc {info['accuracy']:.3f} {info['elapsed']:.1f}s")
        elif event == "trained":
            m = info["metrics"]
            tr.write_line(f"[interp]   done in {m['steps']} steps, {m.get('seconds', 0):.1f}s: {outcome_of_training(m)}")

    def relay(self, worker: str, lines: list[str]) -> None:
        """In the controller: print the lines a worker queued, numbered across workers."""
        tr = self._terminal()
        column: int = getattr(getattr(tr, "_tw", None), "width_of_current_line", 0)
        if tr is not None and lines and column:  # mid-way through a line of xdist's dots
            tr.write("\n")
        for line in lines:
            self.relayed += 1
            if tr is not None:
                tr.write_line(f"[interp] {worker}: {line} ({self.relayed} trained in this run)")

    def _terminal(self) -> Any:
        if self.config.option.verbose < 0:
            return None
        return self.config.pluginmanager.get_plugin("terminalreporter")
