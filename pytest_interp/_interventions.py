"""Edits to a site's activation: replace, zero-ablate, mean-ablate, add a vector.

An edit may be restricted to one position, head or channel; where those axes sit depends on
the role, so the layout table below is the only place that knows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

#: Axis of positions / heads / channels per role, for activations that have them (batch is axis 0).
POSITION_AXIS = {"embed": 1, "hidden": 1, "mlp": 1, "logits": 1, "conv.channel": 2, "attn.head": 1, "attn.pattern": 2}
HEAD_AXIS = {"attn.head": 2, "attn.pattern": 1}
CHANNEL_AXIS = {"conv.channel": 1}
#: Roles whose position axis exists only in sequence layout, (batch, positions, features) or
#: (batch, channels, positions): an MLP's (batch, width) or an image map (batch, C, H, W) has none.
POSITION_NDIM = {"embed": 3, "hidden": 3, "mlp": 3, "logits": 3, "conv.channel": 3}


@dataclass(frozen=True)
class Edit:
    """kind: 'replace' | 'zero' | 'mean' | 'add'; value: the replacement or the vector.

    position / head / channel restrict the edit to one index on that axis, where the
    site has one (a ValueError otherwise, never a silent edit of the wrong axis).
    """

    kind: str
    value: torch.Tensor | None = None
    position: int | None = None
    head: int | None = None
    channel: int | None = None

    def index(self, role: str, ndim: int) -> tuple[Any, ...]:
        idx: list[Any] = [slice(None)] * ndim
        axes = ((POSITION_AXIS, self.position, "position"), (HEAD_AXIS, self.head, "head"),
                (CHANNEL_AXIS, self.channel, "channel"))
        for axis_table, which, name in axes:
            if which is None:
                continue
            axis = axis_table.get(role)
            if name == "position" and role in POSITION_NDIM and ndim != POSITION_NDIM[role]:
                axis = None
            if axis is None or axis >= ndim:
                raise ValueError(f"{role} activations of {ndim} dimensions have no {name} axis")
            idx[axis] = which
        return tuple(idx)

    def apply(self, act: torch.Tensor, role: str, mean: torch.Tensor | None) -> torch.Tensor:
        idx = self.index(role, act.ndim)
        out = act.clone()
        if self.kind == "zero":
            out[idx] = 0
        elif self.kind == "mean":
            if mean is None:
                raise ValueError("mean-ablation needs reference activations")
            out[idx] = mean.to(act).expand_as(act)[idx]
        elif self.kind == "replace":
            assert self.value is not None
            out[idx] = self.value.to(act).expand_as(act)[idx] if self.value.shape == act.shape else self.value.to(act)
        elif self.kind == "add":
            assert self.value is not None
            out[idx] = out[idx] + self.value.to(act)
        else:
            raise ValueError(f"unknown edit {self.kind!r}")
        return out


def replace(value: torch.Tensor, *, position: int | None = None, head: int | None = None,
            channel: int | None = None) -> Edit:
    return Edit("replace", value, position, head, channel)


def zero(*, position: int | None = None, head: int | None = None, channel: int | None = None) -> Edit:
    return Edit("zero", None, position, head, channel)


def mean(*, position: int | None = None, head: int | None = None, channel: int | None = None) -> Edit:
    return Edit("mean", None, position, head, channel)


def add(vector: torch.Tensor, *, position: int | None = None, head: int | None = None,
        channel: int | None = None) -> Edit:
    return Edit("add", vector, position, head, channel)
