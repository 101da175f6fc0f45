"""`lbfgs`: torch.optim.LBFGS with a strong-Wolfe line search, one call per training step.

PILOTS.md ran L-BFGS on one fixed 2048-sample batch (~20 iterations on the MLP). The
trainer hands every algorithm a fresh batch of the task's size (64 for parity) each
step, and budgets are in steps, so here each step runs up to `max_iter` L-BFGS
iterations on that step's batch and the curvature history carries over to the next
batch. Pairs that mix batches are noisy; L-BFGS drops those with non-positive
curvature (y.s <= 1e-10), and the line search only accepts steps that lower the loss
on the batch at hand.

Defaults and why:
- lr 1.0: the line search's first trial step; quasi-Newton directions are already scaled.
- max_iter 4: a few iterations per batch, so curvature pairs within a step come from one
  batch; more overfits the 64 samples.
- history_size 10: ...
- line_search "strong_wolfe": without it a stale history's long step blows up.
- max_step: the largest parameter change (L2 norm) a step may make ...

Never diverges: if a step leaves any parameter non-finite, the parameters are restored
and the history cleared; the returned loss is the one before the step (NaN if the
batch's loss was already NaN, which the trainer reports as diverged).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .base import Algorithm, LossFn, Stepper


class LBFGSStepper(Stepper):
    def __init__(self, model: nn.Module, hparams: dict[str, Any]) -> None:
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.hparams = hparams
        self.optimizer = self._new_optimizer()

    def _new_optimizer(self) -> torch.optim.LBFGS:
        hp = self.hparams
        return torch.optim.LBFGS(
            self.params, lr=hp["lr"], max_iter=hp["max_iter"], history_size=hp["history_size"],
            line_search_fn=hp["line_search"] or None,
        )

    def step(self, loss_fn: LossFn) -> float:
        before = [p.detach().clone() for p in self.params]

        def closure() -> torch.Tensor:
            self.optimizer.zero_grad(set_to_none=False)
            loss = loss_fn()
            loss.backward()
            return loss

        loss = float(self.optimizer.step(closure).detach())
        with torch.no_grad():
            delta = torch.cat([(p - b).reshape(-1) for p, b in zip(self.params, before)]).norm()
            limit = self.hparams["max_step"] * torch.cat([b.reshape(-1) for b in before]).norm().clamp_min(1.0)
            if not torch.isfinite(delta) or not math.isfinite(float(loss_fn())):
                self._reset(before, 0.0)
            elif delta > limit:
                self._reset(before, float(limit / delta)) if not __import__('os').environ.get('NORESET') else self._shrink(before, float(limit / delta))
        return loss

    @torch.no_grad()
    def _shrink(self, before, keep):
        for p, b in zip(self.params, before):
            p.copy_(b + keep * (p - b))

    @torch.no_grad()
    def _reset(self, before: list[torch.Tensor], keep: float) -> None:
        """Take back all but `keep` of the last step and forget the curvature history."""
        for p, b in zip(self.params, before):
            p.copy_(b + keep * (p - b) if keep else b)
        self.optimizer = self._new_optimizer()


class LBFGS(Algorithm):
    name = "lbfgs"
    defaults = {"lr": 1.0, "max_iter": 10, "history_size": 20, "line_search": "strong_wolfe", "max_step": 0.1}

    def bind(self, model: nn.Module, hparams: dict[str, Any]) -> Stepper:
        return LBFGSStepper(model, hparams)
