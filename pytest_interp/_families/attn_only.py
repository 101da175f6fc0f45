"""`attn-only`: the pre-LN transformer with its MLP blocks removed (Elhage et al. 2021).

Size rule: 2 blocks (enough for induction heads, PILOTS.md; 4 from 300k parameters),
heads as in `transformer` (at least 8 dimensions each); d is the width nearest the
target. Inputs and outputs as in `transformer`: patches for images, mean over
positions for "class" and "vector", causal attention and per-position logits for "position".
No `mlp` site, so claims that need one are n/a here.
"""

from __future__ import annotations

from typing import Any, Sequence

from torch import nn

from .._sites import SiteRule
from .._tasks.base import InputSpec
from .base import Family
from .transformer import TransformerNet, attention_candidates


class AttnOnly(Family):
    name = "attn-only"
    modalities = ("tokens", "vectors", "images")
    outputs = ("class", "vector", "position")
    sites = {
        "embed": SiteRule("embed"),
        "hidden": SiteRule("blocks.{i}", repeat="blocks"),
        "attn.pattern": SiteRule("blocks.{i}.attn.pattern", repeat="blocks"),
        "attn.head": SiteRule("blocks.{i}.attn.head", repeat="blocks"),
        "logits": SiteRule("head"),
    }

    def candidates(self, target: int, spec: InputSpec) -> Sequence[dict[str, Any]]:
        return attention_candidates(2 if target < 300_000 else 4, mlp_ratio=0)

    def build(self, config: dict[str, Any], spec: InputSpec) -> nn.Module:
        return TransformerNet(spec, config["d"], config["depth"], config["heads"], 0)
