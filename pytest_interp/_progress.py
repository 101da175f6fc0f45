"""Training progress in the terminal while cells build, and the trained/loaded tallies for the results file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

    from ._grid import Cell


class Progress:
    """Training progress lines in the terminal; counts cell events for the results file."""

    def __init__(self, config: pytest.Config, pending: pytest.StashKey[dict], worker: bool) -> None:
        self.config = config
        self.pending = pending
        self.worker = worker  # an xdist worker's lines would interleave: only the controller writes
        self.index = 0
        self.total = 0

    def __call__(self, event: str, cell: "Cell", info: Any) -> None:
        pending = self.config.stash[self.pending]
        if event == "trained":
            pending["trained"].append(cell.key)
        elif event == "loaded":
            pending["loaded"].append(cell.key)
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is None or self.worker or self.config.option.verbose < 0:
            return
        where = f"{self.index}/{self.total} " if self.total else ""
        if event == "train-start":
            tr.write_line(f"[interp] training cell {where}{cell.key} ({info['params']} params)")
        elif event == "train-progress" and self.config.option.verbose > 0:
            tr.write_line(f"[interp]   step {info['step']}/{info['steps']} loss {info['loss']:.4f} "
                          f"acc {info['accuracy']:.3f} {info['elapsed']:.1f}s")
        elif event == "trained":
            m = info["metrics"]
            state = "diverged" if m["diverged"] else \
                f"train loss {m['train_loss']:.4f}, test accuracy {m['test_accuracy']:.3f}"
            tr.write_line(f"[interp]   done in {m['steps']} steps, {m.get('seconds', 0):.1f}s: {state}")
