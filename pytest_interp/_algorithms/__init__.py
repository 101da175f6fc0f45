"""The learning-algorithm registry: one file per algorithm, one line here."""

from __future__ import annotations

from .._registry import Registry
from .adam import Adam
from .adamw import AdamW
from .base import Algorithm, LossFn, Stepper, TorchOptimizerStepper
from .es import ES
from .lbfgs import LBFGS
from .muon import Muon
from .reptile import Reptile
from .sgd import SGD
from .shampoo import Shampoo

ALGORITHMS: Registry[Algorithm] = Registry("learning algorithm")
ALGORITHMS.register(SGD.name, SGD())
ALGORITHMS.register(Adam.name, Adam())
ALGORITHMS.register(AdamW.name, AdamW())
ALGORITHMS.register(Muon.name, Muon())
ALGORITHMS.register(LBFGS.name, LBFGS())
ALGORITHMS.register(Shampoo.name, Shampoo())
ALGORITHMS.register(ES.name, ES())
ALGORITHMS.register(Reptile.name, Reptile())

__all__ = ["ALGORITHMS", "Algorithm", "LossFn", "Stepper", "TorchOptimizerStepper"]
