"""Attributions: how much each input feature contributes to one output.

- saliency:             |dF_t/dx|                                      (Simonyan et al. 2014)
- input_x_gradient:     x * dF_t/dx                                    (Shrikumar et al. 2016)
- integrated_gradients: (x - x') * int_0^1 dF_t(x' + a(x - x'))/dx da  (Sundararajan et al. 2017)
- guided_backprop:      dF_t/dx with every nn.ReLU passing back only positive gradients
                        (Springenberg et al. 2015)

All of them differentiate w.r.t. float inputs. Token models have no float input: use
`site_model(subject, inputs)`, which returns the model as a function of the embed site's
output together with that output, and attribute w.r.t. the embedding instead.
Every example's output must depend on its own input row only (no batch statistics);
the model is measured in eval mode with frozen parameters (see `_common.measuring`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np
import torch
from torch import nn

from .._errors import NotApplicable
from .._sites import Site, put
from ._common import following, measuring, module_device

Model = Callable[[torch.Tensor], torch.Tensor]
Target = Union[int, torch.Tensor, None]

METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


@dataclass(frozen=True)
class IGResult:
    """Integrated-gradients attributions and the completeness gap per example.

    gap = sum(attributions) - (F_t(x) - F_t(baseline)); zero for the exact integral.
    """

    attributions: torch.Tensor
    gap: torch.Tensor


def _pick(out: torch.Tensor, target: Target, reps: int = 1) -> torch.Tensor:
    """The scalar output per row that is attributed: out[:, target], or out itself if 1-D."""
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1 and target is None):
        return out.reshape(-1)
    if out.ndim != 2:
        raise ValueError(f"attributions need outputs of shape (batch,) or (batch, classes), not {tuple(out.shape)}")
    if target is None:
        raise ValueError("the model has several outputs: give a target class")
    if isinstance(target, int):
        return out[:, target]
    t = torch.as_tensor(target, device=out.device).long().reshape(-1)
    if t.numel() == 1:
        return out[:, int(t)]
    return out.gather(1, t.repeat(reps)[:, None]).squeeze(1)


def _gradient(model: Model, x: torch.Tensor, target: Target, reps: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """dF_t/dx for every row, and F_t: rows are independent, so the gradient of the sum is per row."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        y = _pick(model(x), target, reps)
        (g,) = torch.autograd.grad(y.sum(), x)
    return g, y.detach()


def saliency(model: Model, inputs: torch.Tensor, target: Target = None, *, absolute: bool = True) -> torch.Tensor:
    """Gradient saliency |dF_t/dx| (signed if absolute=False), shape of `inputs`."""
    with measuring(model):
        g, _ = _gradient(following(model), inputs, target)
    return g.abs() if absolute else g


def input_x_gradient(model: Model, inputs: torch.Tensor, target: Target = None) -> torch.Tensor:
    """x * dF_t/dx: the first-order Taylor contribution of each feature relative to zero."""
    with measuring(model):
        g, _ = _gradient(following(model), inputs, target)
    return inputs.detach() * g


def quadrature(method: str, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes a_k in [0, 1] and weights w_k (float64) with sum_k w_k f(a_k) ~ int_0^1 f(a) da.

    Gauss-Legendre is exact for polynomials of degree < 2*steps, so it needs far fewer
    steps than Riemann sums for the same gap. Every rule's weights sum to 1. (Captum's
    trapezoid rule weights `steps` points 1/steps with halved ends, which sum to
    (steps-1)/steps; ours uses the textbook 1/(steps-1).)
    """
    if method not in METHODS:
        raise ValueError(f"unknown quadrature {method!r}; use one of {', '.join(METHODS)}")
    if steps < (1 if method == "gausslegendre" else 2):
        raise ValueError(f"{method} needs more steps than {steps}")
    n = steps
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return torch.from_numpy((nodes + 1) / 2), torch.from_numpy(weights / 2)
    k = torch.arange(n, dtype=torch.float64)
    w = torch.full((n,), 1.0 / n, dtype=torch.float64)
    if method == "riemann_left":
        return k / n, w
    if method == "riemann_right":
        return (k + 1) / n, w
    if method == "riemann_middle":
        return (k + 0.5) / n, w
    w = torch.full((n,), 1.0 / (n - 1), dtype=torch.float64)
    w[0] = w[-1] = 0.5 / (n - 1)
    return k / (n - 1), w


def integrated_gradients(
    model: Model, inputs: torch.Tensor, target: Target = None, *, baseline: torch.Tensor | float | None = None,
    steps: int = 32, method: str = "gausslegendre", steps_per_pass: int | None = None,
) -> IGResult:
    """(x - x') * sum_k w_k dF_t(x' + a_k (x - x'))/dx, with the completeness gap.

    All path points go through the model in one batch of steps * n rows unless
    `steps_per_pass` bounds it (memory). The baseline x' defaults to zeros; for a
    LayerNorm model's embedding prefer a reference input's embedding, since near zero
    LayerNorm's gradient is ~1/sqrt(eps) and no quadrature closes the gap.
    """
    x = inputs.detach()
    b = torch.zeros_like(x) if baseline is None else torch.as_tensor(baseline, dtype=x.dtype, device=x.device).expand_as(x)
    alphas, weights = (t.to(device=x.device, dtype=x.dtype) for t in quadrature(method, steps))
    diff = x - b
    per = steps if steps_per_pass is None else max(1, int(steps_per_pass))
    total = torch.zeros_like(x)
    shape = (-1,) + (1,) * x.ndim
    run = following(model)
    with measuring(model):
        for s in range(0, steps, per):
            a, w = alphas[s : s + per], weights[s : s + per]
            path = (b + a.view(shape) * diff).reshape(-1, *x.shape[1:])
            g, _ = _gradient(run, path, target, reps=len(a))
            total += torch.tensordot(w, g.view(len(a), *x.shape), dims=1)
        with torch.no_grad():
            ends = _pick(run(torch.cat([x, b])), target, reps=2)
    attributions = diff * total
    n = x.shape[0]
    gap = attributions.reshape(n, -1).sum(1) - (ends[:n] - ends[n:])
    return IGResult(attributions, gap)


class _PositiveGradient(torch.autograd.Function):
    """Identity forward; backward passes only the positive part of the gradient."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, fired: list[int]) -> torch.Tensor:
        ctx.fired = fired
        return x.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        ctx.fired[1] += 1
        return grad.clamp_min(0), None


def relu_modules(model: nn.Module) -> list[nn.ReLU]:
    """The nn.ReLU modules guided backprop can hook (a functional F.relu cannot be hooked)."""
    return [m for m in model.modules() if isinstance(m, nn.ReLU)]


def guided_backprop(model: nn.Module, inputs: torch.Tensor, target: Target = None) -> torch.Tensor:
    """dF_t/dx where each nn.ReLU's backward is relu(grad_out) * 1[x > 0].

    Raises NotApplicable when the model has no nn.ReLU module or none of them took part
    in the forward and backward pass: hooks would silently return the plain gradient.
    A model that mixes hooked modules with functional relus cannot be detected; avoid it.
    """
    relus = relu_modules(model)
    if not relus:
        raise NotApplicable(f"guided backprop needs nn.ReLU modules; {type(model).__name__} has none")
    fired = [0, 0]  # forward calls, backward calls

    def hook(_mod: nn.Module, _inp: Any, out: torch.Tensor) -> torch.Tensor:
        fired[0] += 1
        return _PositiveGradient.apply(out, fired)

    handles = [m.register_forward_hook(hook) for m in relus]
    try:
        with measuring(model):
            g, _ = _gradient(following(model), inputs, target)
    finally:
        for h in handles:
            h.remove()
    if fired[0] == 0 or fired[1] == 0:
        raise NotApplicable(
            f"{len(relus)} nn.ReLU module(s) found but {fired[0]} ran forward and {fired[1]} backward: "
            "the model's nonlinearity is not hookable (functional relu?)"
        )
    return g


class SiteModel(nn.Module):
    """A subject's model as a function of one site's activation, the inputs held fixed.

    forward(act) runs the model on the stored inputs with the site's output replaced by
    `act`; a batch of k * n rows repeats the n inputs k times (as integrated gradients does).
    """

    def __init__(self, module: nn.Module, target: nn.Module, element: int | None, inputs: torch.Tensor) -> None:
        super().__init__()
        self.net = module
        self._target = [target]  # a list, so the hooked module is not registered twice
        self.element = element
        self.inputs = inputs

    def forward(self, act: torch.Tensor) -> torch.Tensor:
        n = self.inputs.shape[0]
        if act.shape[0] % n:
            raise ValueError(f"a batch of {act.shape[0]} activations for {n} inputs")
        x = self.inputs.repeat(act.shape[0] // n, *([1] * (self.inputs.ndim - 1)))
        device = module_device(self.net) or x.device  # the model's device, and back: see `following`
        x, moved = x.to(device), act.to(device)
        handle = self._target[0].register_forward_hook(lambda _m, _i, out: put(out, self.element, moved))
        try:
            return self.net(x).to(act.device)
        finally:
            handle.remove()


def site_model(subject: Any, inputs: torch.Tensor | None = None, site: Site | str = "embed") -> tuple[SiteModel, torch.Tensor]:
    """(model of the site's activation, that activation on `inputs`): attribute token models on their embedding."""
    s = site if isinstance(site, Site) else subject.site(site)
    x = subject.data.x if inputs is None else inputs
    target, element = subject._sites.target(s)
    return SiteModel(subject.module, target, element, x), subject.activations(s, inputs=x)
