"""`muon`: torch.optim.Muon on hidden weight matrices, AdamW on everything else.

Muon (Jordan et al. 2024) orthogonalizes the momentum of a weight matrix with a
Newton-Schulz iteration, so it only makes sense for matrices that map one hidden
space to another. Which parameters get it:

- Muon: the `weight` of every nn.Linear except the output head, and the input and
  recurrent matrices (`weight_ih_l*`, `weight_hh_l*`) of nn.LSTM / nn.GRU / nn.RNN.
- AdamW: embeddings (a lookup table's rows are not a linear map; orthogonalizing them
  couples unrelated tokens), learned positions, biases and norm gains (1-D), convolution
  kernels (3-D: torch's Muon takes 2-D parameters only, so the CNN's hidden layers stay
  on AdamW), other bare parameters (e.g. the SSM's depthwise kernel and decay rates),
  and the output head, as the Muon authors advise: its rows are class scores, and
  equalizing their singular values fights the logit scale (the head is `model.head`,
  or the last nn.Linear if there is none).

Defaults: Muon lr 0.02, momentum 0.95 with Nesterov, 5 Newton-Schulz steps (the
reference values; PILOTS.md: Muon 25-50 steps on the MLP at (12,3)); torch's "original"
shape adjustment (lr x sqrt(max(1, rows/cols))). Muon weight_decay 0 (torch's 0.1 with
lr 0.02 halves an idle weight in ~350 steps, inside our 1500-step budget). AdamW for the
rest at lr 3e-3 like `adam`, weight_decay 0.01 like `adamw`. Gradient norm clipped at 1
before both, as for every gradient method here. With these, every family reaches the
sparse-parity target at 10k parameters in 100-650 steps (benchmarks/algorithm_table.py).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import Algorithm, Stepper, TorchOptimizerStepper


def output_head(model: nn.Module) -> nn.Module | None:
    """The layer that produces the logits: `model.head`, else the last nn.Linear."""
    head = getattr(model, "head", None)
    if isinstance(head, nn.Module):
        return head
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


def split_hidden_matrices(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(Muon parameters, AdamW parameters), each parameter once, in model order."""
    head = output_head(model)
    head_ids = {id(p) for p in head.parameters()} if head is not None else set()
    hidden: dict[int, torch.Tensor] = {}
    for module in model.modules():
        if isinstance(module, nn.Linear) and module is not head:
            hidden[id(module.weight)] = module.weight
        elif isinstance(module, nn.RNNBase):
            for name, p in module.named_parameters(recurse=False):
                if name.startswith(("weight_ih", "weight_hh")) and p.ndim == 2:
                    hidden[id(p)] = p
    muon: list[nn.Parameter] = []
    rest: list[nn.Parameter] = []
    seen: set[int] = set()
    for p in model.parameters():
        if id(p) in seen or not p.requires_grad:
            continue
        seen.add(id(p))
        (muon if id(p) in hidden and id(p) not in head_ids else rest).append(p)
    return muon, rest


class Muon(Algorithm):
    name = "muon"
    defaults = {
        "lr": 0.02, "momentum": 0.95, "nesterov": True, "ns_steps": 5, "weight_decay": 0.0,
        "adamw_lr": 3e-3, "adamw_weight_decay": 0.01, "clip": 1.0,
    }

    def bind(self, model: nn.Module, hparams: dict[str, Any]) -> Stepper:
        muon, rest = split_hidden_matrices(model)
        opts: list[torch.optim.Optimizer] = []
        if muon:
            opts.append(torch.optim.Muon(
                muon, lr=hparams["lr"], momentum=hparams["momentum"], nesterov=hparams["nesterov"],
                ns_steps=hparams["ns_steps"], weight_decay=hparams["weight_decay"],
            ))
        if rest:
            opts.append(torch.optim.AdamW(rest, lr=hparams["adamw_lr"], weight_decay=hparams["adamw_weight_decay"]))
        return TorchOptimizerStepper(model, opts, hparams["clip"])
