"""The family registry: one file per architecture, one line here."""

from __future__ import annotations

from ..registry import Registry
from .base import Family, count_params
from .mlp import MLP
from .transformer import Transformer

FAMILIES: Registry[Family] = Registry("family")
FAMILIES.register(MLP.name, MLP())
FAMILIES.register(Transformer.name, Transformer())

__all__ = ["FAMILIES", "Family", "count_params"]
