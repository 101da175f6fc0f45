"""`es`: evolution strategies (Salimans et al. 2017), gradient-free.

Each step perturbs the flattened parameters with `population`/2 antithetic pairs of
Gaussian noise (theta +- sigma * eps), evaluates the step's loss at each under
torch.no_grad, replaces the losses by centered ranks (so the update ignores the loss's
scale and outliers; a non-finite loss ranks worst), estimates the gradient as
sum(rank * eps) / (population * sigma) and hands it to Adam. One ES generation per
training step, so budgets in steps mean the same thing for every algorithm. Measured
at 10k parameters on sparse parity (10,2): the MLP and CNN in 150 generations, the
transformer in 500, attention-only 750, the SSM 950; the LSTM and GRU are expected
`untrained` within the 1500-step budget (0.69 and 0.68 held-out accuracy). PILOTS.md:
~150 generations on the MLP at (12,3), where the transformer failed.

Defaults and why (MLP at 10k parameters, sparse parity; steps to the target at eval
granularity 50):
- population 64 (32 antithetic pairs): 150 generations, vs 200 at 32 or 16. Budgets count
  steps, so the larger population buys progress per step (PILOTS.md used 32-64); it
  costs 65 forward passes a step.
- sigma 0.02: 0.005 and 0.05 did as well (150); about a quarter of a typical hidden
  weight (RMS ~0.075 in the MLP).
- Adam lr 0.01 on the estimate: ranks bound its scale and Adam normalizes it, so lr is
  about the per-weight step (0.003: 250 generations; 0.03: 150).

Noise comes from the stepper's own generator, seeded at bind time from torch's global RNG
(which the trainer seeds from the cell), and is regenerated from per-pair seeds instead of
stored, so memory stays O(parameters).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import Algorithm, LossFn, Stepper


def centered_ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks scaled to [-0.5, 0.5]; NaN and inf rank highest (worst, for a loss)."""
    v = torch.where(torch.isfinite(values), values, torch.full_like(values, float("inf")))
    ranks = torch.empty_like(v)
    ranks[torch.argsort(v, stable=True)] = torch.arange(len(v), dtype=v.dtype)
    return ranks / max(len(v) - 1, 1) - 0.5


class ESStepper(Stepper):
    """Antithetic ES on the flattened parameters; Adam steps on the rank-weighted noise."""

    def __init__(self, model: nn.Module, hparams: dict[str, Any], seed: int) -> None:
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.pairs = max(1, int(hparams["population"]) // 2)
        self.sigma = float(hparams["sigma"])
        with torch.no_grad():
            self.theta = nn.Parameter(torch.cat([p.detach().reshape(-1) for p in self.params]).clone())
        self.optimizer = torch.optim.Adam([self.theta], lr=hparams["lr"])
        self.generator = torch.Generator().manual_seed(seed)
        self.noise_gen = torch.Generator()

    @torch.no_grad()
    def _load(self, vector: torch.Tensor) -> None:
        offset = 0
        for p in self.params:
            n = p.numel()
            p.copy_(vector[offset:offset + n].view_as(p))
            offset += n

    def _noise(self, seed: int) -> torch.Tensor:
        """The pair's noise, drawn on the CPU so it is the same on every device."""
        self.noise_gen.manual_seed(seed)
        eps = torch.randn(self.theta.shape, generator=self.noise_gen, dtype=self.theta.dtype)
        return eps.to(self.theta.device)

    @torch.no_grad()
    def step(self, loss_fn: LossFn) -> float:
        theta = self.theta.detach()
        self._load(theta)
        loss = float(loss_fn())
        seeds = torch.randint(0, 2**62, (self.pairs,), generator=self.generator).tolist()
        losses = torch.empty(2 * self.pairs, dtype=torch.float64)
        for i, seed in enumerate(seeds):
            eps = self._noise(seed).mul_(self.sigma)
            self._load(theta + eps)
            losses[2 * i] = float(loss_fn())
            self._load(theta - eps)
            losses[2 * i + 1] = float(loss_fn())
        ranks = centered_ranks(losses)
        weights = (ranks[0::2] - ranks[1::2]).tolist()
        grad = torch.zeros_like(theta)
        for w, seed in zip(weights, seeds):
            grad.add_(self._noise(seed), alpha=w)
        self.theta.grad = grad.div_(2 * self.pairs * self.sigma)
        self.optimizer.step()
        self._load(self.theta.detach())
        return loss

    def state(self) -> Any:
        return {"theta": self.theta.detach(), "adam": self.optimizer.state_dict(),
                "generator": self.generator.get_state()}

    @torch.no_grad()
    def load_state(self, state: Any) -> None:
        theta = state["theta"]
        if theta.shape != self.theta.shape:
            raise ValueError("the snapshot's parameters have another shape")
        self.theta.copy_(theta.to(self.theta))
        self.optimizer.load_state_dict(state["adam"])
        self.generator.set_state(state["generator"])
        self._load(self.theta.detach())


class ES(Algorithm):
    """Gradient-free: only loss values of perturbed parameters are used."""

    name = "es"
    relative_cost = 36.0  # 65 forward passes a step, and it seldom stops early
    # a step costs a median 16x an Adam step (7-39x over the 107 ES cells of docs/findings); scaled by
    # the budget, estimates land within 1.5x of the time taken where the total ratio gave 2.1x
    step_cost = 16.0
    defaults = {"population": 64, "sigma": 0.02, "lr": 0.01}

    def bind(self, model: nn.Module, hparams: dict[str, Any]) -> Stepper:
        if int(hparams["population"]) < 2 or float(hparams["sigma"]) <= 0:
            raise ValueError("es: population must be at least 2 and sigma positive")
        seed = int(torch.randint(0, 2**62, (1,)))  # the trainer seeds the global RNG from the cell
        return ESStepper(model, hparams, seed)
