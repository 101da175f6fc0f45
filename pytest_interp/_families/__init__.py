"""The family registry: one file per architecture, one line here."""

from __future__ import annotations

from .._registry import Registry
from .base import Family, count_params
from .attn_only import AttnOnly
from .attn_only_1l import AttnOnly1L
from .cnn import CNN
from .gru import GRU
from .lstm import LSTM
from .mlp import MLP
from .ssm import SSM
from .transformer import Transformer
from .transformer_nogain import TransformerNoGain

FAMILIES: Registry[Family] = Registry("family")
FAMILIES.register(MLP.name, MLP())
FAMILIES.register(Transformer.name, Transformer())
FAMILIES.register(CNN.name, CNN())
FAMILIES.register(LSTM.name, LSTM())
FAMILIES.register(GRU.name, GRU())
FAMILIES.register(AttnOnly.name, AttnOnly())
FAMILIES.register(SSM.name, SSM())
FAMILIES.register(TransformerNoGain.name, TransformerNoGain())
FAMILIES.register(AttnOnly1L.name, AttnOnly1L())

__all__ = ["FAMILIES", "Family", "count_params"]
