"""L-BFGS on mini-batches never leaves the parameters where the loss is not finite, nor jumps far."""

from __future__ import annotations

import math

import torch
from torch import nn

from pytest_interp._algorithms import ALGORITHMS
from pytest_interp._algorithms.lbfgs import LBFGSStepper


class Vector(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(d))


def test_a_step_into_nan_is_taken_back() -> None:
    """The loss is NaN outside |w| <= 1 while the optimum lies at 10: steps there are undone."""
    model = Vector(4)

    def loss_fn() -> torch.Tensor:
        loss = ((model.w - 10) ** 2).sum()
        return loss if float(model.w.detach().abs().max()) <= 1 else loss * float("nan")

    stepper = LBFGSStepper(model, ALGORITHMS.get("lbfgs").hparams())
    for _ in range(20):
        assert math.isfinite(stepper.step(loss_fn))
        assert math.isfinite(float(loss_fn().detach()))


def test_steps_are_capped_relative_to_the_weights() -> None:
    model = Vector(4)
    hp = ALGORITHMS.get("lbfgs").hparams({"max_step": 0.1})
    stepper = LBFGSStepper(model, hp)
    for _ in range(15):
        before = model.w.detach().clone()
        stepper.step(lambda: ((model.w - 1000) ** 2).sum())
        assert float((model.w.detach() - before).norm()) <= 0.1 * max(1.0, float(before.norm())) * (1 + 1e-5)
    assert float(model.w.detach().norm()) > 1.5  # it still moves: 0.1 a step below norm 1, 10% above


def test_nan_loss_is_returned_not_raised() -> None:
    model = Vector(3)
    stepper = LBFGSStepper(model, ALGORITHMS.get("lbfgs").hparams())
    assert math.isnan(stepper.step(lambda: model.w.sum() * float("nan")))
    assert torch.isfinite(model.w).all()
