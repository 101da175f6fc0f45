"""One run's state outside pytest: the zoo, collected results, stats, and the provenance of each result."""

from __future__ import annotations

import hashlib
import inspect
import os
from pathlib import Path
from dataclasses import asdict
from typing import Any, Callable, Mapping

import torch

from . import __version__
from ._grid import Cell
from ._options import InterpConfig
from ._store import Store
from ._zoo import Listener, Zoo


def prebuilt_layers() -> list[Path]:
    """Read-only stores searched after the user's: the prebuilt default zoo shipped in fixtures/zoo."""
    env = os.environ.get("PYTEST_INTERP_PREBUILT")
    candidates = [Path(p) for p in env.split(os.pathsep) if p] if env is not None else \
        [Path(__file__).resolve().parents[1] / "fixtures" / "zoo"]
    return [p for p in candidates if p.is_dir()]


def claim_source_hash(fn: Callable[..., Any]) -> str:
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        src = getattr(fn, "__qualname__", repr(fn))
    return hashlib.sha256(src.encode()).hexdigest()


class InterpSession:
    def __init__(self, config: InterpConfig, listener: Listener | None = None) -> None:
        self.config = config
        self.listener = listener
        self._zoo: Zoo | None = None
        self.results: list[dict[str, Any]] = []
        self.trained: set[str] = set()
        self.loaded: set[str] = set()
        self.forward_passes = 0
        self.build_errors: dict[Cell, BaseException] = {}
        #: cells a stored-only run left out because the store lacks them (keys)
        self.not_stored: set[str] = set()
        self._document: dict[str, Any] | None = None

    @property
    def zoo(self) -> Zoo:
        if self._zoo is None:
            self._zoo = Zoo(
                Store(self.config.store_dir, prebuilt_layers()), self.config.device, self.config.grid.hparams, self.listener,
                budget=self.config.grid.budget, sources=self.config.grid.sources, train=not self.config.stored_only,
            )
        return self._zoo

    def add_result(self, result: Mapping[str, Any]) -> None:
        self.results.append(dict(result))

    def add_stats(self, trained: list[str], loaded: list[str], forward_passes: int) -> None:
        self.trained.update(trained)
        self.loaded.update(loaded)
        self.forward_passes += forward_passes

    def stats(self) -> dict[str, int]:
        return {
            "cells_trained": len(self.trained),
            "cells_loaded": len(self.loaded - self.trained),
            "training_runs": len(self.trained),
            "forward_passes": self.forward_passes,
            "results": len(self.results),
        }

    def grid_description(self) -> dict[str, Any]:
        g = self.config.grid
        out = {"families": list(g.families), "sizes": list(g.sizes), "optimizers": list(g.optimizers),
               "seeds": g.seeds, "device": self.config.device, "quorum": str(self.config.quorum),
               "controls": self.config.controls}
        if self.config.stored_only:
            out["stored_only"] = True
        if g.sources:  # models the zoo file names ([[checkpoint]], [[hf]])
            out["models"] = [s.describe() for s in g.sources]
        return out

    def document(self, stopped_early: str | None) -> dict[str, Any]:
        """The results document, built once at the end of a run: the JSON file, the HTML page and
        the baseline all read this one (verdicts and trends are aggregated once)."""
        if self._document is None:
            from ._report import results

            self._document = results.build(self.results, self.stats(), self.grid_description(), self.config.quorum,
                                           stopped_early, sorted(self.not_stored) if self.config.stored_only else None)
        return self._document


def result_record(
    *, claim: str, variant: str | None = None, cell: Cell, outcome: str, reason: str | None, measurements: list[dict[str, Any]],
    params: int | None, training: Mapping[str, Any] | None, claim_sha256: str, checkpoint_sha256: str | None,
    control: Mapping[str, Any] | None = None, size_note: str | None = None, checkpoint_key: str | None = None,
) -> dict[str, Any]:
    """One (claim, cell, seed) entry of the results file; see docs/results-schema.md."""
    provenance = {"claim_sha256": claim_sha256, "checkpoint_sha256": checkpoint_sha256}
    if checkpoint_key:
        provenance["checkpoint_key"] = checkpoint_key
    return {
        "claim": claim,
        "variant": variant,
        "cell": cell.key,
        "family": cell.family,
        "size": cell.size,
        "params": params,
        "size_note": size_note,
        "optimizer": cell.optimizer,
        "task": cell.task_label,
        "seed": cell.seed,
        "outcome": outcome,
        "reason": reason,
        "measurements": measurements,
        "control": dict(control) if control else None,
        "vacuous": bool(control and control.get("outcome") == "holds"),
        "training": dict(training) if training else None,
        "provenance": {**provenance, "pytest_interp": __version__, "torch": str(torch.__version__)},
    }


__all__ = ["InterpSession", "result_record", "claim_source_hash", "asdict"]
