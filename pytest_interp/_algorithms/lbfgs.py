"""`lbfgs`: torch.optim.LBFGS with a strong-Wolfe line search, one call per training step.

PILOTS.md ran L-BFGS on one fixed 2048-sample batch (~20 iterations on the MLP). The
trainer hands every algorithm a fresh batch of the task's size (64 for parity) each
step, and budgets are in steps, so here each step runs up to `max_iter` L-BFGS
iterations on that step's batch and the curvature history carries over to the next
batch. Pairs that mix batches are noisy; L-BFGS drops those with non-positive
curvature (y.s <= 1e-10), and the line search only accepts steps that lower the loss
on the batch at hand.

Defaults and why (sparse parity, 10k parameters, every family):
- lr 1.0: the line search's first trial step; quasi-Newton directions are already scaled.
- max_iter 10, history_size 20: ten iterations on each batch, so most curvature pairs come
  from one batch. With 4 and 10 the LSTM, GRU and SSM stayed at chance (0.49-0.51); with
  10 and 20 the LSTM and SSM learn, and every family reaches the target in 100-850 steps.
- line_search "strong_wolfe": a step is only accepted if it lowers the batch's loss enough
  ("" turns it off: then every iteration steps by lr, and the cap below does all the work).
- max_step 0.05: a step may change the parameters by at most 5% of their L2 norm (or 0.05
  below norm 1); a longer one is shrunk to that length. Without a cap the SSM's line
  search accepted a step that took the weight norm from 54 to 11700 and the next batch's
  loss was NaN. 0.1 left the GRU at chance, 0.03 the SSM. The history is kept when a step
  is shrunk: resetting it at every cap threw the curvature away and left the GRU at chance.

Never diverges: if a step leaves any parameter non-finite, or the batch's loss at the new
parameters is not finite, the step is taken back and the history cleared (such a step says
the history is bad; checking only after shrinking it left the SSM at chance). The returned loss
is the one before the step (NaN if the batch's loss was already NaN, which the trainer
reports as diverged). Cost: ~10-25 forward and backward passes a step.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .base import Algorithm, LossFn, Stepper


class LBFGSStepper(Stepper):
    """One torch L-BFGS call per batch, with a cap on the step's length and a NaN guard."""

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
            if not bool(torch.isfinite(delta)) or not math.isfinite(float(loss_fn())):
                self._reset(before)  # a step into NaN means the curvature history is bad
            elif delta > limit:
                self._shrink(before, float(limit / delta))
        return loss

    def state(self) -> Any:
        return {"optimizer": self.optimizer.state_dict()}

    def load_state(self, state: Any) -> None:
        self.optimizer.load_state_dict(state["optimizer"])

    @torch.no_grad()
    def _shrink(self, before: list[torch.Tensor], keep: float) -> None:
        """Keep only the fraction `keep` of the last step; the curvature history stays."""
        for p, b in zip(self.params, before):
            p.copy_(b + keep * (p - b))

    @torch.no_grad()
    def _reset(self, before: list[torch.Tensor]) -> None:
        """Take the last step back and forget the curvature history."""
        for p, b in zip(self.params, before):
            p.copy_(b)
        self.optimizer = self._new_optimizer()


class LBFGS(Algorithm):
    name = "lbfgs"
    relative_cost = 8.0  # 10-25 forward and backward passes a step
    defaults = {"lr": 1.0, "max_iter": 10, "history_size": 20, "line_search": "strong_wolfe", "max_step": 0.05}

    def bind(self, model: nn.Module, hparams: dict[str, Any]) -> Stepper:
        return LBFGSStepper(model, hparams)
