"""`adam`: Adam (Kingma & Ba 2015), gradient norm clipped at 1.

Defaults from PILOTS.md: lr 3e-3, betas (0.9, 0.999); at 1e-3 induction heads did not form.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import Algorithm, Stepper, TorchOptimizerStepper


class Adam(Algorithm):
    name = "adam"
    defaults = {"lr": 3e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "clip": 1.0}

    def bind(self, model: nn.Module, hparams: dict[str, Any]) -> Stepper:
        opt = torch.optim.Adam(
            model.parameters(), lr=hparams["lr"], betas=(hparams["beta1"], hparams["beta2"]),
            eps=hparams["eps"],
        )
        return TorchOptimizerStepper(model, opt, hparams["clip"])
