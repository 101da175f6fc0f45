"""Evolution strategies: rank-normalized fitness, and the optimum of a small quadratic without gradients."""

from __future__ import annotations

import torch
from torch import nn

from pytest_interp._algorithms.es import ESStepper, centered_ranks


class Vector(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(d))


def es_on_quadratic(seed: int, steps: int = 300) -> tuple[float, list[float]]:
    """A 10-d quadratic with curvatures 1..10 from w = 0; (final relative error, losses)."""
    g = torch.Generator().manual_seed(seed)
    target = torch.randn(10, generator=g)
    scales = torch.logspace(0, 1, 10)
    model = Vector(10)
    stepper = ESStepper(model, {"population": 32, "sigma": 0.05, "lr": 0.02}, seed=seed)

    def loss_fn() -> torch.Tensor:
        # a gradient-free method must not need one
        assert not torch.is_grad_enabled()
        return (scales * (model.w - target) ** 2).sum()

    losses = [stepper.step(loss_fn) for _ in range(steps)]
    return float((model.w.detach() - target).norm() / target.norm()), losses


def test_centered_ranks() -> None:
    r = centered_ranks(torch.tensor([3.0, float("nan"), -1.0, 10.0, float("inf")]))
    assert r.min() == -0.5 and r.max() == 0.5
    assert r[2] == -0.5  # lowest loss ranks best
    assert r[1] > r[3] and r[4] > r[3]  # non-finite losses rank worst
    assert torch.equal(centered_ranks(torch.tensor([1.0, 2.0]) * 1e6), centered_ranks(torch.tensor([1.0, 2.0])))


def test_es_reaches_the_optimum_of_a_small_quadratic() -> None:
    """Measured relative error 0.001-0.003 (seeds 0-2) after 300 generations: Adam's lr sets the floor."""
    for seed in (0, 1):
        err, losses = es_on_quadratic(seed)
        assert err < 0.02
        assert losses[-1] < 1e-3 * losses[0]


def test_es_is_deterministic_and_seeded() -> None:
    a, b, c = es_on_quadratic(0, 20)[1], es_on_quadratic(0, 20)[1], es_on_quadratic(1, 20)[1]
    assert a == b and a != c
