"""Input adapters shared by families: tokens -> embeddings, vectors and images -> floats."""

from __future__ import annotations

import torch
from torch import nn

from ..tasks.base import InputSpec


class SequenceEmbed(nn.Module):
    """Token or scalar sequence -> (batch, positions, d) with learned positions.

    tokens: a lookup table; vectors: each coordinate is a position whose value scales
    a learned direction, so one model class serves both modalities.
    """

    def __init__(self, spec: InputSpec, d: int) -> None:
        super().__init__()
        self.modality = spec.modality
        length = spec.shape[0]
        if spec.modality == "tokens":
            self.table = nn.Embedding(spec.vocab, d)
        else:
            self.value = nn.Linear(1, d)
        self.pos = nn.Parameter(torch.randn(length, d) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.modality == "tokens":
            h = self.table(x)
        else:
            h = self.value(x.unsqueeze(-1).float())
        return h + self.pos[: h.shape[1]]


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
