"""A small Shampoo (Gupta, Koren & Singer 2018) as a torch optimizer.

Each parameter is seen as a matrix G (m x n): 1-D parameters are the diagonal case,
higher ranks are reshaped to (shape[0], rest), as a conv kernel's output channels
by everything else. Shampoo keeps L = sum G G^T and R = sum G^T G and steps along
L^-1/4 G R^-1/4 (`root` 4, the paper's exponent for matrices); a side longer than
`max_dim` keeps only the diagonal of its statistic (Adagrad-like for that side), so no
eigendecomposition is ever larger than max_dim x max_dim. 1-D parameters get Adagrad's
(sum g^2)^-1/2.

Why these choices:
- Epsilon is relative: eps x the largest eigenvalue is added before the root, so the
  preconditioner does not depend on the loss's scale and a nearly rank-1 statistic
  amplifies unseen directions by at most eps^-1/4.
- Inverse roots are recomputed every step for the first `exact_steps` steps, then
  every `root_every` steps: the statistics start nearly rank-1, and stale early roots
  never converged in the pilots (PILOTS.md).
- Grafting (Agarwal et al. 2020): each parameter's step takes Shampoo's direction and
  Adagrad's norm, so one lr suits matrices and vectors alike (Shampoo's raw step is
  smaller than Adagrad's by a factor that grows with the matrix). Off, the raw step is used.
- Heavy-ball momentum on the (grafted) step.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch


def inverse_root(stat: torch.Tensor, root: int, eps: float) -> torch.Tensor:
    """(stat + eps * max eigenvalue * I)^(-1/root) for a symmetric PSD matrix or a diagonal vector."""
    if not bool(torch.isfinite(stat).all()):
        return torch.full_like(stat, float("nan"))  # a NaN gradient: let the trainer see divergence
    if stat.ndim == 1:
        return (stat + eps * stat.max().clamp_min(1e-30)).pow(-1.0 / root)
    try:
        evals, evecs = torch.linalg.eigh(stat)
    except torch.linalg.LinAlgError:  # rare in float32; the diagonal is always available
        return torch.diag(inverse_root(torch.diagonal(stat).clone(), root, eps))
    evals = evals.clamp_min(0.0)
    evals = evals + eps * evals.max().clamp_min(1e-30)
    return (evecs * evals.pow(-1.0 / root)) @ evecs.T


class Shampoo(torch.optim.Optimizer):
    """Shampoo with Adagrad grafting, momentum and a diagonal fallback for long sides."""

    def __init__(
        self, params: Iterable[torch.Tensor] | Iterable[dict[str, Any]], lr: float = 0.01,
        momentum: float = 0.9, eps: float = 1e-4, exact_steps: int = 100, root_every: int = 10,
        max_dim: int = 1024, graft: bool = True, weight_decay: float = 0.0, root: int = 4,
    ) -> None:
        if lr < 0 or not 0 <= momentum < 1 or eps <= 0 or root_every < 1 or max_dim < 1:
            raise ValueError("shampoo: need lr >= 0, 0 <= momentum < 1, eps > 0, root_every >= 1, max_dim >= 1")
        defaults = {"lr": lr, "momentum": momentum, "eps": eps, "exact_steps": exact_steps,
                    "root_every": root_every, "max_dim": max_dim, "graft": graft, "weight_decay": weight_decay,
                    "root": root}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, group)
        return loss

    def _update(self, p: torch.Tensor, group: dict[str, Any]) -> None:
        g = p.grad
        assert g is not None
        if group["weight_decay"]:
            g = g.add(p, alpha=group["weight_decay"])
        state = self.state[p]
        if not state:
            self._init_state(p, state, group["max_dim"])
        state["step"] += 1
        state["adagrad"].addcmul_(g, g)
        adagrad = g / (state["adagrad"].sqrt() + 1e-12)
        if p.ndim < 2:
            direction = adagrad
        else:
            direction = self._precondition(g.reshape(state["shape"]), state, group).view_as(p)
            if group["graft"]:
                direction = direction * (adagrad.norm() / direction.norm().clamp_min(1e-30))
        buf = state["momentum"]
        buf.mul_(group["momentum"]).add_(direction)
        p.add_(buf, alpha=-group["lr"])

    @staticmethod
    def _init_state(p: torch.Tensor, state: dict[str, Any], max_dim: int) -> None:
        state["step"] = 0
        state["adagrad"] = torch.zeros_like(p)
        state["momentum"] = torch.zeros_like(p)
        if p.ndim >= 2:
            m, n = p.shape[0], p.numel() // p.shape[0]
            state["shape"] = (m, n)
            # a side above max_dim keeps a diagonal statistic: a vector instead of a matrix
            state["stats"] = [p.new_zeros(d) if d > max_dim else p.new_zeros(d, d) for d in (m, n)]
            state["roots"] = [None, None]

    @staticmethod
    def _precondition(g: torch.Tensor, state: dict[str, Any], group: dict[str, Any]) -> torch.Tensor:
        left, right = state["stats"]
        left.add_(g.square().sum(1) if left.ndim == 1 else g @ g.T)
        right.add_(g.square().sum(0) if right.ndim == 1 else g.T @ g)
        t = state["step"]
        if t <= group["exact_steps"] or t % group["root_every"] == 0 or state["roots"][0] is None:
            state["roots"] = [inverse_root(s, group["root"], group["eps"]) for s in (left, right)]
        lroot, rroot = state["roots"]
        out = lroot.unsqueeze(1) * g if lroot.ndim == 1 else lroot @ g
        return out * rroot if rroot.ndim == 1 else out @ rroot
