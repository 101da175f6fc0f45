"""`adamw`: Adam with decoupled weight decay (Loshchilov & Hutter 2019), gradient norm clipped at 1.

Defaults: lr 3e-3 and betas (0.9, 0.999) as for `adam` (PILOTS.md: 1e-3 was too slow for
induction heads), so the two differ only by the decay. weight_decay 0.01, torch's default:
at lr 3e-3 it shrinks weights by 3e-5 per step, about 4% over the 1500-step parity budget,
a mild regularizer that does not slow learning (see docs/concepts.md, "Training").
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import Algorithm, Stepper, TorchOptimizerStepper


class AdamW(Algorithm):
    name = "adamw"
    defaults = {"lr": 3e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "clip": 1.0}

    def bind(self, model: nn.Module, hparams: dict[str, Any]) -> Stepper:
        opt = torch.optim.AdamW(
            model.parameters(), lr=hparams["lr"], betas=(hparams["beta1"], hparams["beta2"]),
            eps=hparams["eps"], weight_decay=hparams["weight_decay"],
        )
        return TorchOptimizerStepper(model, opt, hparams["clip"])
