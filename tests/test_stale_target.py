"""A task's accuracy target is not part of the checkpoint key: stored cells are judged by today's target."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_interp._grid import Cell
from pytest_interp._store import Store
from pytest_interp._tasks.repeated_tokens import RepeatedTokens
from pytest_interp._tasks.sparse_parity import SparseParity
from pytest_interp._zoo import Zoo, judged


@pytest.mark.parametrize(("metrics", "target", "early_stop", "expected"), [
    ({"target": 0.5, "reached": False, "test_accuracy": 0.13}, 0.5, False, {"target": 0.5, "reached": False}),
    ({"target": 0.5, "reached": False, "test_accuracy": 0.13}, 0.05, False, {"target": 0.05, "reached": True}),
    ({"target": 0.05, "reached": True, "test_accuracy": 0.13}, 0.5, False, {"target": 0.5, "reached": False}),
    ({"target": 0.5, "reached": False, "test_accuracy": None, "diverged": True}, 0.05, False,
     {"target": 0.05, "reached": False}),
    ({"target": 0.5, "reached": False, "test_accuracy": 0.13}, 0.05, True, None),  # stopped at the old target
    ({"reached": True, "test_accuracy": 0.99}, 0.5, True, {"reached": True}),  # no target stored: as it was
])
def test_stored_metrics_are_judged_by_todays_target(metrics: dict, target: float, early_stop: bool,
                                                    expected: dict | None) -> None:
    out = judged(metrics, SimpleNamespace(accuracy_target=target, early_stop=early_stop))
    if expected is None:
        assert out is None
    else:
        assert out is not None and {k: out[k] for k in expected} == expected


def test_a_changed_target_rejudges_a_full_budget_cell_and_retrains_an_early_stopped_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full = Cell("attn-only", "1k", "adam", "repeated-tokens", 0)
    early = Cell("mlp", "1k", "adam", "sparse-parity", 0)
    first = Zoo(Store(tmp_path), budget={"steps": 20, "eval_every": 10})
    acc = first.subject(full).metrics["test_accuracy"]
    first.subject(early)
    monkeypatch.setattr(RepeatedTokens, "accuracy_target", acc / 2)
    monkeypatch.setattr(SparseParity, "accuracy_target", 0.123)
    again = Zoo(Store(tmp_path), budget={"steps": 20, "eval_every": 10})
    # plans (`--plan`, `findings --build`, stored-only deselection) count what building would train
    assert not again.needs_training(full) and again.needs_training(early)
    m = again.subject(full).metrics
    assert (m["target"], m["reached"]) == (acc / 2, True) and full.key in again.stats.loaded
    assert again.subject(early).metrics["target"] == 0.123 and early.key in again.stats.trained
