"""`transformer-nogain`: the pre-norm transformer with RMSNorm that has no per-dimension gain.

The variant the privileged-basis finding depends on (PILOTS.md; Elhage et al. 2023; He et
al. 2024): LayerNorm's per-dimension gain and bias are themselves a privileged basis that
any optimizer can grow outliers in, so with standard LayerNorm Adam > SGD did not
reproduce, and with a norm that treats every dimension alike (RMSNorm without weight) it
did. Everything else is `transformer` (its blocks, attention, MLP, embedding, inputs,
outputs and sites), with every norm (ln1, ln2, ln_f) replaced by a parameter-free RMSNorm.

Size rule: as `transformer` (2 blocks, 4 from 300k parameters; MLP width 4d; heads of at
least 8 dimensions; d the width nearest the target); the same d has 2d fewer parameters
per norm, 4d per block plus 2d for the final norm.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from .._tasks.base import InputSpec
from .transformer import Transformer, TransformerNet


def _rms_norm(d: int) -> nn.Module:
    return nn.RMSNorm(d, elementwise_affine=False)


class NoGainTransformerNet(TransformerNet):
    """TransformerNet whose norms are RMSNorm without gain (no parameters, no preferred dimension)."""

    def __init__(self, spec: InputSpec, d: int, depth: int, heads: int, d_mlp: int) -> None:
        super().__init__(spec, d, depth, heads, d_mlp)
        for block in self.blocks:
            block.ln1 = _rms_norm(d)
            if hasattr(block, "ln2"):
                block.ln2 = _rms_norm(d)
        self.ln_f = _rms_norm(d)  # type: ignore[assignment]  # a gainless norm in LayerNorm's place


class TransformerNoGain(Transformer):
    name = "transformer-nogain"

    def build(self, config: dict[str, Any], spec: InputSpec) -> nn.Module:
        return NoGainTransformerNet(spec, config["d"], config["depth"], config["heads"], config["d_mlp"])
