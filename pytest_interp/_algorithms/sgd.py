"""`sgd`: stochastic gradient descent with heavy-ball momentum, gradient norm clipped at 1.

Defaults from PILOTS.md (sparse parity): lr 0.1, momentum 0.9.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import Algorithm, Stepper, TorchOptimizerStepper


class SGD(Algorithm):
    name = "sgd"
    defaults = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0, "clip": 1.0}

    def bind(self, model: nn.Module, hparams: dict[str, Any]) -> Stepper:
        opt = torch.optim.SGD(
            model.parameters(), lr=hparams["lr"], momentum=hparams["momentum"],
            weight_decay=hparams["weight_decay"],
        )
        return TorchOptimizerStepper(model, opt, hparams["clip"])
