"""`transformer`: a pre-LN transformer; also the blocks of `attn-only`.

Size rule: 2 blocks (4 from 300k parameters), MLP width 4d, heads of at least 8
dimensions (1 head below d=16, then 2, 4 and 8 heads from d=128); d is the width
nearest the parameter target. Attention patterns and per-head outputs pass through
hook points so they are sites like any other.

Inputs: tokens are looked up, each coordinate of a vector is a position, images are
cut into square patches (`inputs.patch_side`: the smallest side leaving at most 16
patches, so 8x8 -> 2x2 patches). Learned positions throughout.
Outputs: "class" and "vector" read the mean over positions through the final LayerNorm
(attention is bidirectional); "position" gives logits per position with causal attention.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import nn

from .._sites import HookPoint, SiteRule
from .._tasks.base import InputSpec
from .base import Family
from .inputs import SequenceEmbed


def heads_for(d: int) -> int:
    return 1 if d < 16 else 2 if d < 32 else 4 if d < 128 else 8


class Attention(nn.Module):
    def __init__(self, d: int, heads: int, causal: bool) -> None:
        super().__init__()
        self.heads, self.causal = heads, causal
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.pattern = HookPoint()  # (batch, heads, query, key)
        self.head = HookPoint()  # (batch, position, heads, d_head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).unbind(2)
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(d // self.heads)
        if self.causal:
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(mask, float("-inf"))
        pattern = self.pattern(scores.softmax(-1))
        z = self.head(torch.einsum("bhqk,bkhd->bqhd", pattern, v))
        return self.out(z.reshape(b, t, d))


class FeedForward(nn.Module):
    def __init__(self, d: int, d_mlp: int) -> None:
        super().__init__()
        self.fc_in = nn.Linear(d, d_mlp)
        self.act = nn.GELU()
        self.fc_out = nn.Linear(d_mlp, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc_out(self.act(self.fc_in(x)))


class Block(nn.Module):
    """Pre-LN residual block; `d_mlp=0` leaves the feed-forward part out (attention-only)."""

    def __init__(self, d: int, heads: int, d_mlp: int, causal: bool) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = Attention(d, heads, causal)
        if d_mlp:
            self.ln2 = nn.LayerNorm(d)
            self.mlp = FeedForward(d, d_mlp)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        if hasattr(self, "mlp"):
            x = x + self.mlp(self.ln2(x))
        return x


class TransformerNet(nn.Module):
    def __init__(self, spec: InputSpec, d: int, depth: int, heads: int, d_mlp: int) -> None:
        super().__init__()
        self.per_position = spec.output == "position"
        self.embed = SequenceEmbed(spec, d, images="patches")
        self.blocks = nn.ModuleList(Block(d, heads, d_mlp, causal=self.per_position) for _ in range(depth))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, spec.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        h = self.ln_f(h)
        return self.head(h if self.per_position else h.mean(1))


def attention_candidates(depth: int, mlp_ratio: int) -> list[dict[str, Any]]:
    """Widths 4..1024 whose head count divides them (every width while there is one head)."""
    out = []
    for d in range(4, 1025):
        h = heads_for(d)
        if d % h == 0:
            out.append({"d": d, "depth": depth, "heads": h, "d_mlp": mlp_ratio * d})
    return out


class Transformer(Family):
    name = "transformer"
    modalities = ("tokens", "vectors", "images")
    outputs = ("class", "vector", "position")
    sites = {
        "embed": SiteRule("embed"),
        "hidden": SiteRule("blocks.{i}", repeat="blocks"),
        "mlp": SiteRule("blocks.{i}.mlp.act", repeat="blocks"),
        "attn.pattern": SiteRule("blocks.{i}.attn.pattern", repeat="blocks"),
        "attn.head": SiteRule("blocks.{i}.attn.head", repeat="blocks"),
        "logits": SiteRule("head"),
    }

    def candidates(self, target: int, spec: InputSpec) -> Sequence[dict[str, Any]]:
        return attention_candidates(2 if target < 300_000 else 4, mlp_ratio=4)

    def build(self, config: dict[str, Any], spec: InputSpec) -> nn.Module:
        return TransformerNet(spec, config["d"], config["depth"], config["heads"], config["d_mlp"])
