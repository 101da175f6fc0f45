"""`mlp`: a ReLU multilayer perceptron.

Size rule: 3 hidden layers of equal width (2 below 3k parameters, 4 from 300k);
the width is the one whose parameter count is nearest the target. Token inputs are
embedded in 4 dimensions per position and concatenated; vectors and images are
flattened. One prediction per input ("class" or "vector"); no "position" outputs:
the network has no positions to predict at.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from .._sites import SiteRule
from .._tasks.base import InputSpec
from .base import Family
from .inputs import FlatEmbed


class Dense(nn.Module):
    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.linear(x))


class MLPNet(nn.Module):
    def __init__(self, spec: InputSpec, width: int, depth: int, embed_dim: int) -> None:
        super().__init__()
        self.embed = FlatEmbed(spec, embed_dim)
        dims = [self.embed.out_dim] + [width] * depth
        self.layers = nn.ModuleList(Dense(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(width, spec.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x).flatten(1)
        for layer in self.layers:
            h = layer(h)
        return self.head(h)


class MLP(Family):
    name = "mlp"
    modalities = ("tokens", "vectors", "images")
    reasons = {"position": "it reads the whole input at once, so it has no positions to predict at"}
    sites = {
        "embed": SiteRule("embed"),
        "hidden": SiteRule("layers.{i}", repeat="layers"),
        "mlp": SiteRule("layers.{i}.act", repeat="layers"),
        "logits": SiteRule("head"),
    }

    def candidates(self, target: int, spec: InputSpec) -> Sequence[dict[str, Any]]:
        depth = 2 if target < 3_000 else 3 if target < 300_000 else 4
        return [{"width": w, "depth": depth, "embed_dim": 4} for w in range(2, 4097)]

    def build(self, config: dict[str, Any], spec: InputSpec) -> nn.Module:
        return MLPNet(spec, config["width"], config["depth"], config["embed_dim"])
