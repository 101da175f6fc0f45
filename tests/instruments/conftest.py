"""Shared fixtures: real (untrained) models of our families, built without training."""

from __future__ import annotations

from typing import Iterator

import pytest
import torch

from pytest_interp.grid import Cell
from pytest_interp.subject import Subject
from pytest_interp.train import initialize, make_plan


def make_subject(family: str, size: str, seed: int = 0) -> Subject:
    """A seeded untrained model wrapped as a Subject on the sparse-parity task."""
    cell = Cell(family, size, "adam", "sparse-parity", seed)
    plan = make_plan(cell)
    return Subject(initialize(plan), cell, plan.task, params=plan.params, metrics={},
                   checkpoint_sha256=None, trained=False)


@pytest.fixture(scope="package")
def transformer() -> Subject:
    """d=20, 2 blocks, 2 heads, 10 token positions, 2 classes."""
    return make_subject("transformer", "10k")


@pytest.fixture(scope="package")
def mlp() -> Subject:
    return make_subject("mlp", "1k")


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Small models are overhead-bound; one thread is faster and leaves the other core free."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
