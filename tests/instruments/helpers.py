"""Real models of our families, untrained: built from a cell's plan without any training."""

from __future__ import annotations

from pytest_interp._grid import Cell
from pytest_interp._subject import Subject
from pytest_interp._train import initialize, make_plan


def make_subject(family: str, size: str, seed: int = 0, task: str = "sparse-parity") -> Subject:
    """A seeded untrained model wrapped as a Subject on a task (default: sparse parity)."""
    cell = Cell(family, size, "adam", task, seed)
    plan = make_plan(cell)
    return Subject(initialize(plan), cell, plan.task, params=plan.params, metrics={},
                   checkpoint_sha256=None, trained=False)


def rewrap(subject: Subject) -> Subject:
    """A fresh Subject around the same (edited) module, so no cached forward pass is stale."""
    return Subject(subject.module, subject.cell, subject.task, params=subject.params, metrics={},
                   checkpoint_sha256=None, trained=False)
