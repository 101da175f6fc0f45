"""`cnn`: a plain ReLU convolutional network read out by one linear layer over the flattened map.

Size rule: 2 conv blocks below 3k parameters, 3 below 300k, 4 from 300k; every block has
the same channel count c, the one nearest the target. Images: 3x3 convolutions, the
first with stride 1 and later ones with stride 2 while the map is at least 4 wide
(8x8 -> 8, 4, 2), so the readout stays small. Tokens and vectors: a 1-D network over
positions (tokens looked up in c dimensions, each vector coordinate scales a learned
c-vector), kernel 3 with dilation 1, 2, 4, ... (capped below the length) so a few blocks
see the whole sequence.

Sites: `conv.channel` is each block's post-ReLU map in conv layout, channels on axis 1
((batch, c, length) or (batch, c, H, W)); `hidden` is the block output, (batch,
positions, c) for sequences, as in every sequence family, and (batch, c, H, W) for images.
One prediction per input ("class", or "vector" for regression) from the linear readout;
no "position" outputs: the convolutions see both sides of a position and the readout
reads all positions at once, so per-position predictions would need another model.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from .._sites import SiteRule
from .._tasks.base import InputSpec
from .base import Family
from .inputs import SequenceEmbed


class ImageInput(nn.Module):
    """The image as floats: a module so the `embed` site exists for images too."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.float()


class Conv1dBlock(nn.Module):
    """(batch, positions, c_in) -> (batch, positions, c); the ReLU output is the conv.channel site."""

    def __init__(self, c_in: int, c: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c, 3, padding=dilation, dilation=dilation)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x.transpose(1, 2))).transpose(1, 2)


class Conv2dBlock(nn.Module):
    def __init__(self, c_in: int, c: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c, 3, stride=stride, padding=1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


class CNNNet(nn.Module):
    def __init__(self, spec: InputSpec, channels: int, depth: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        if spec.modality == "images":
            c_in, h, w = spec.shape
            self.embed: nn.Module = ImageInput()
            for i in range(depth):
                stride = 2 if i > 0 and min(h, w) >= 4 else 1
                blocks.append(Conv2dBlock(c_in if i == 0 else channels, channels, stride))
                h, w = (h - 1) // stride + 1, (w - 1) // stride + 1
            features = channels * h * w
        else:
            length = spec.shape[0]
            self.embed = SequenceEmbed(spec, channels, positions=False)
            for i in range(depth):
                blocks.append(Conv1dBlock(channels, channels, min(2**i, max(1, (length - 1) // 2))))
            features = channels * length
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(features, spec.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h.flatten(1))


class CNN(Family):
    name = "cnn"
    modalities = ("tokens", "vectors", "images")
    reasons = {"position": "its convolutions see both sides of a position and its readout reads all positions"}
    sites = {
        "embed": SiteRule("embed"),
        "hidden": SiteRule("blocks.{i}", repeat="blocks"),
        "conv.channel": SiteRule("blocks.{i}.act", repeat="blocks"),
        "logits": SiteRule("head"),
    }

    def candidates(self, target: int, spec: InputSpec) -> Sequence[dict[str, Any]]:
        depth = 2 if target < 3_000 else 3 if target < 300_000 else 4
        return [{"channels": c, "depth": depth} for c in range(2, 2049)]

    def build(self, config: dict[str, Any], spec: InputSpec) -> nn.Module:
        return CNNNet(spec, config["channels"], config["depth"])
