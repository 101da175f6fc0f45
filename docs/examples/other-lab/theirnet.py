"""Another lab's architecture: an MLP-Mixer for token sequences (Tolstikhin et al. 2021).

Not in pytest-interp's zoo: each block mixes information across positions with an MLP
over the position axis, then across channels with an MLP over the feature axis. It only
depends on torch; `build(spec, width)` is all pytest-interp needs, plus the site mapping
in zoo.toml.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class MixerBlock(nn.Module):
    def __init__(self, positions: int, width: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.token = nn.Sequential(nn.Linear(positions, 2 * positions), nn.GELU(), nn.Linear(2 * positions, positions))
        self.norm2 = nn.LayerNorm(width)
        self.channel_in = nn.Linear(width, 2 * width)
        self.act = nn.GELU()
        self.channel_out = nn.Linear(2 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.token(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channel_out(self.act(self.channel_in(self.norm2(x))))


class Mixer(nn.Module):
    def __init__(self, vocab: int, positions: int, width: int, classes: int, depth: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.blocks = nn.ModuleList(MixerBlock(positions, width) for _ in range(depth))
        self.head = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h.mean(1))


def build(spec: Any, width: int) -> nn.Module:
    """pytest-interp calls this with the task's input spec and a width from zoo.toml's `widths`."""
    return Mixer(spec.vocab, spec.shape[0], width, spec.n_classes)
