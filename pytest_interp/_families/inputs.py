"""Input adapters shared by families: tokens, vectors and images -> sequences or flat floats.

Sequence families see every modality as (batch, positions, d): tokens are looked up,
each coordinate of a vector is a position, and images become patches (attention
families) or rows (recurrent families, one row per step).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._tasks.base import InputSpec

#: Patch rule: the smallest side dividing both H and W that leaves at most this many patches.
MAX_PATCHES = 16


def patch_side(height: int, width: int) -> int:
    """Smallest common divisor p of H and W with (H/p)*(W/p) <= MAX_PATCHES (8x8 -> 2, 28x28 -> 7).

    Falls back to gcd(H, W), the fewest square patches, when no divisor gets that low.
    """
    g = math.gcd(height, width)
    for p in range(1, g + 1):
        if g % p == 0 and (height // p) * (width // p) <= MAX_PATCHES:
            return p
    return g


def sequence_length(spec: InputSpec, images: str = "patches") -> int:
    """How many positions a sequence family sees for these inputs."""
    if spec.modality != "images":
        return spec.shape[0]
    _, h, w = spec.shape
    if images == "rows":
        return h
    p = patch_side(h, w)
    return (h // p) * (w // p)


class SequenceEmbed(nn.Module):
    """Token, scalar or image input -> (batch, positions, d), with learned positions if asked.

    tokens: a lookup table; vectors: each coordinate is a position whose value scales
    a learned direction; images: flattened patches (`images="patches"`, side from
    `patch_side`) or rows (`images="rows"`) through one linear map.
    """

    def __init__(self, spec: InputSpec, d: int, *, positions: bool = True, images: str = "patches") -> None:
        super().__init__()
        if images not in ("patches", "rows"):
            raise ValueError(f"images must be 'patches' or 'rows', not {images!r}")
        self.modality = spec.modality
        self.images = images
        self.patch = 0
        if spec.modality == "tokens":
            self.table = nn.Embedding(spec.vocab, d)
        elif spec.modality == "vectors":
            self.value = nn.Linear(1, d)
        else:
            c, h, w = spec.shape
            if images == "rows":
                self.value = nn.Linear(c * w, d)
            else:
                self.patch = patch_side(h, w)
                self.value = nn.Linear(c * self.patch * self.patch, d)
        length = sequence_length(spec, images)
        self.pos = nn.Parameter(torch.randn(length, d) * 0.1) if positions else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.modality == "tokens":
            h = self.table(x)
        elif self.modality == "vectors":
            h = self.value(x.unsqueeze(-1).float())
        else:
            h = self.value(self._steps(x.float()))
        if self.pos is not None:
            h = h + self.pos[: h.shape[1]]
        return h

    def _steps(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, C, H, W) -> (batch, steps, features): rows top to bottom, or patches row-major."""
        b, c, h, w = x.shape
        if self.images == "rows":
            return x.permute(0, 2, 1, 3).reshape(b, h, c * w)
        p = self.patch
        x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
        return x.reshape(b, (h // p) * (w // p), c * p * p)


class FlatEmbed(nn.Module):
    """Any input -> (batch, features): token embeddings are concatenated, floats flattened."""

    def __init__(self, spec: InputSpec, d: int) -> None:
        super().__init__()
        self.modality = spec.modality
        if spec.modality == "tokens":
            self.table = nn.Embedding(spec.vocab, d)
            self.out_dim = spec.shape[0] * d
        else:
            n = 1
            for s in spec.shape:
                n *= s
            self.out_dim = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.modality == "tokens":
            return self.table(x)
        return x.float()
