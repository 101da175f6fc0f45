"""Lenses: read a prediction out of each hidden depth and compare it with the model's own.

- logit lens (nostalgebraist 2020): logits_l = readout(h_l)
- tuned lens (Belrose et al. 2023): logits_l = readout(h_l + A_l h_l + b_l), one affine
  translator per depth trained to minimize KL(final || lens), starting from the identity.
Both report KL(p_final || p_lens) = sum p_final (log p_final - log p_lens), in nats,
averaged over examples (and positions, for per-position outputs).

`readout` maps a hidden activation to logits the way the model's forward pass ends; it is
what makes the lens architecture-independent. `family_readout` derives it for families
that end in [final norm] -> [pool over positions] -> head, which is all of ours;
`subject_readout` picks the pooling by family name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._errors import NotApplicable
from .probes import _split as split
from ._common import following, measuring

Readout = Callable[[torch.Tensor], torch.Tensor]

POOLS = ("mean", "last", "flatten", "none")

#: How each of our families turns its last hidden state into one vector per input.
FAMILY_POOL = {"transformer": "mean", "transformer-nogain": "mean", "attn-only": "mean", "attn-only-1l": "mean",
               "mlp": "none", "lstm": "last", "gru": "last",
               "ssm": "last", "cnn": "flatten"}


def family_readout(module: nn.Module, *, norm: str | None = "ln_f", head: str = "head", pool: str = "mean") -> Readout:
    """hidden -> logits the way our families end: module.<norm> if present, pooling, module.<head>.

    pool: how a (batch, positions, d) state becomes one per input: "mean" (transformer,
    attn-only), "last" (lstm, gru, ssm: the last step), "flatten" (cnn) or "none"; it is
    skipped for 2-D states (mlp) and for models with per-position outputs
    (`module.per_position`). Any other ending needs a readout of its own.
    """
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {', '.join(POOLS)}, not {pool!r}")
    final_norm = getattr(module, norm, None) if norm else None
    head_mod = module.get_submodule(head)
    if getattr(module, "per_position", False):
        pool = "none"

    def readout(h: torch.Tensor) -> torch.Tensor:
        if final_norm is not None:
            h = final_norm(h)
        if h.ndim == 3 and pool == "mean":
            h = h.mean(1)
        elif h.ndim == 3 and pool == "last":
            h = h[:, -1]
        elif h.ndim > 2 and pool == "flatten":
            h = h.flatten(1)
        return head_mod(h)

    return following(readout, device_of=module)


def subject_readout(subject: Any) -> Readout:
    """`family_readout` with the pooling of the subject's family; NotApplicable for other families."""
    pool = FAMILY_POOL.get(subject.family)
    if pool is None:
        raise NotApplicable(f"no known readout for family {subject.family!r}: pass a readout callable")
    return family_readout(subject.module, pool=pool)


def kl_to_final(final_logits: torch.Tensor, lens_logits: torch.Tensor) -> torch.Tensor:
    """KL(p_final || p_lens) per row (last axis = classes), in nats."""
    p_log = F.log_softmax(final_logits.double(), -1)
    q_log = F.log_softmax(lens_logits.double(), -1)
    return (p_log.exp() * (p_log - q_log)).sum(-1)


def logit_lens(hidden: Sequence[torch.Tensor], final_logits: torch.Tensor, readout: Readout) -> list[float]:
    """Mean KL(final || readout(h_l)) for each depth l of `hidden` (activations on the same inputs)."""
    with torch.no_grad():
        return [float(kl_to_final(final_logits, readout(h)).mean()) for h in hidden]


class Translator(nn.Module):
    """h -> h + A h + b on the last axis, A and b starting at zero (the logit lens)."""

    def __init__(self, d: int, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.linear = nn.Linear(d, d, dtype=dtype)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.linear(h)


@dataclass
class TunedLens:
    """Held-out KL per depth for the tuned lens and, on the same rows, the logit lens."""

    kl: list[float]
    logit_kl: list[float]
    translators: list[Translator]


def _split(n: int, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    return split(n, test_fraction, seed, min_train=1, what="a tuned lens")


def tuned_lens(
    hidden: Sequence[torch.Tensor], final_logits: torch.Tensor, readout: Readout, *, module: nn.Module | None = None,
    steps: int = 100, l2: float = 1e-4, test_fraction: float = 0.3, seed: int = 0,
) -> TunedLens:
    """Train one translator per depth on a seeded split and report held-out KL.

    Full-batch L-BFGS on mean KL + l2 * ||A||^2 (a pull toward the logit lens): deterministic,
    no randomness but the split, and it stops where the gradient vanishes instead of
    wandering around the optimum as Adam's normalized steps do. steps: L-BFGS iterations
    per depth. `module`: the model the readout belongs to, measured in eval mode with frozen
    parameters while translators train; the model's `.grad` is never written either way.
    """
    n = final_logits.shape[0]
    tr, te = _split(n, test_fraction, seed)
    target = final_logits.detach()
    kl, logit_kl, translators = [], [], []
    with measuring(module):
        for h in hidden:
            h = h.detach()
            lens = Translator(h.shape[-1], h.dtype).to(h.device)
            opt = torch.optim.LBFGS(lens.parameters(), lr=1.0, max_iter=steps, history_size=20,
                                    line_search_fn="strong_wolfe")

            def closure(lens: Translator = lens, h: torch.Tensor = h) -> torch.Tensor:
                params = list(lens.parameters())
                with torch.enable_grad():
                    loss = kl_to_final(target[tr], readout(lens(h[tr]))).mean() + l2 * lens.linear.weight.pow(2).sum()
                    grads = torch.autograd.grad(loss, params)  # never into the model's own .grad
                for p, g in zip(params, grads):
                    p.grad = g
                return loss.detach()

            opt.step(closure)
            with torch.no_grad():
                kl.append(float(kl_to_final(target[te], readout(lens(h[te]))).mean()))
                logit_kl.append(float(kl_to_final(target[te], readout(h[te])).mean()))
            translators.append(lens.eval())
    return TunedLens(kl, logit_kl, translators)
