"""Controls: every family's subject offers its untrained initialization, with the same sites."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pytest_interp._grid import Cell
from pytest_interp._store import Store
from pytest_interp._train import initialize, make_plan
from pytest_interp._zoo import Zoo

from family_helpers import FAMILY_NAMES


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_control_has_the_same_sites_and_the_initial_weights(family: str, tmp_path: Path) -> None:
    cell = Cell(family, "1k", "adam", "sparse-parity", 0)
    plan = make_plan(cell)
    # A stand-in "trained" checkpoint (perturbed initial weights) so the zoo loads instead of training.
    trained = {k: v + 0.01 if v.is_floating_point() else v for k, v in initialize(plan).state_dict().items()}
    Store(tmp_path).save(plan.key, trained, {"metrics": {"reached": True}})
    subject = Zoo(Store(tmp_path)).subject(cell)
    control = subject.control()
    assert subject.trained and not control.trained and control.control() is control
    assert control.sites() == subject.sites() and control.params == subject.params
    x = subject.data.x
    with torch.no_grad():
        assert torch.equal(control.outputs(x), initialize(plan).eval()(x))
    assert not torch.allclose(control.outputs(x), subject.outputs(x))


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_initialization_is_seeded(family: str) -> None:
    """The control is rebuilt, not stored: the same seed must give the same weights every time."""
    plan = make_plan(Cell(family, "1k", "adam", "sparse-parity", 3))
    a, b = initialize(plan).state_dict(), initialize(plan).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    other = initialize(make_plan(Cell(family, "1k", "adam", "sparse-parity", 4))).state_dict()
    assert any(not torch.equal(a[k], other[k]) for k in a)
