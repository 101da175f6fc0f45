"""What every learning algorithm owes the trainer: registration, determinism, no crash on NaN."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

from pytest_interp._algorithms import ALGORITHMS
from pytest_interp._grid import Cell
from pytest_interp._tasks.base import Task
from pytest_interp._train import initialize, make_plan, train

ALL = ["sgd", "adam", "adamw", "muon", "lbfgs", "shampoo", "es", "reptile"]

#: Cheap settings so that each algorithm runs every code path in a few steps.
QUICK: dict[str, dict[str, Any]] = {
    "es": {"population": 8},
    "reptile": {"meta_iterations": 4, "inner_steps": 3},
    "shampoo": {"exact_steps": 5, "root_every": 3},
}


def test_all_algorithms_are_registered() -> None:
    assert set(ALL) <= set(ALGORITHMS.names())


@pytest.mark.parametrize("name", ALL)
def test_defaults_are_documented(name: str) -> None:
    """Each algorithm's module docstring gives its defaults' reasons; the docs table lists it."""
    algorithm = ALGORITHMS.get(name)
    doc = __import__(type(algorithm).__module__, fromlist=["_"]).__doc__ or ""
    assert "default" in doc.lower(), name
    from pathlib import Path

    concepts = (Path(__file__).parents[2] / "docs" / "concepts.md").read_text()
    assert f"| `{name}` |" in concepts


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("family", ["mlp", "transformer"])
def test_training_is_bit_identical_twice(name: str, family: str) -> None:
    plan = make_plan(Cell(family, "1k", name, "sparse-parity", 3), QUICK.get(name), {"steps": 12, "eval_every": 6})
    first, m1 = train(plan)
    second, m2 = train(plan)
    control = initialize(plan)
    assert m1 == m2
    a, b, c = first.state_dict(), second.state_dict(), control.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)  # and it did train


@pytest.mark.parametrize("name", ALL)
def test_nan_loss_is_returned_not_raised(name: str) -> None:
    plan = make_plan(Cell("mlp", "1k", name, "sparse-parity", 0), QUICK.get(name))
    model = initialize(plan)
    stepper = ALGORITHMS.get(name).bind(model, plan.hparams)
    batch = plan.task.train_batch(torch.Generator().manual_seed(0), 16)
    loss = stepper.step(lambda: plan.task.loss(model(batch.x), batch.y) * float("nan"))
    assert isinstance(loss, float) and math.isnan(loss)


@pytest.mark.parametrize("name", ALL)
def test_nan_loss_is_reported_as_diverged(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = make_plan(Cell("mlp", "1k", name, "sparse-parity", 0), QUICK.get(name), {"steps": 3, "eval_every": 1})
    monkeypatch.setattr(type(plan.task), "loss", lambda self, logits, y: logits.sum() * float("nan"))
    _, metrics = train(plan)
    assert metrics["diverged"] and not metrics["reached"]


class Lonely(Task):
    """A task with no relatives: nothing for meta-learning to learn from."""

    name = "lonely"

    @property
    def spec(self) -> Any:
        raise NotImplementedError

    def train_batch(self, generator: torch.Generator, batch_size: int) -> Any:
        raise NotImplementedError

    def test_set(self) -> Any:
        raise NotImplementedError


def test_reptile_needs_related_tasks() -> None:
    reptile = ALGORITHMS.get("reptile")
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="no related tasks"):
        reptile.prepare(model, Lonely(), torch.Generator().manual_seed(0), reptile.hparams())
