"""The learning-algorithm registry: one file per algorithm, one line here."""

from __future__ import annotations

from ..registry import Registry
from .adam import Adam
from .base import Algorithm, LossFn, Stepper, TorchOptimizerStepper
from .sgd import SGD

ALGORITHMS: Registry[Algorithm] = Registry("learning algorithm")
ALGORITHMS.register(SGD.name, SGD())
ALGORITHMS.register(Adam.name, Adam())

__all__ = ["ALGORITHMS", "Algorithm", "LossFn", "Stepper", "TorchOptimizerStepper"]
