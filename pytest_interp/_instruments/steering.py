"""Steering: add a difference-of-means vector at a site and count the predictions it flips.

v = mean(h | label = 1) - mean(h | label = 0)          (Turner et al. 2023; Paulo et al. 2024)
flip rate = fraction of inputs whose argmax output changes when scale * v is added.
The null is a random direction of the same norm: a vector that flips as much as a random
one says nothing about the property. Report the vector's norm relative to the hidden
state as well (PILOTS.md): a long enough vector flips anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .._interventions import add
from .._sites import Site


def mean_difference(acts: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """mean(acts[labels == 1]) - mean(acts[labels == 0]) over the batch; shape acts.shape[1:].

    For (batch, positions, d) activations the vector is per position; `.mean(0)` of it gives
    one d-vector that `interventions.add` broadcasts over positions.
    """
    y = labels.detach().reshape(-1).bool()
    if y.numel() != acts.shape[0]:
        raise ValueError(f"{acts.shape[0]} activations but {y.numel()} labels")
    if y.all() or not y.any():
        raise ValueError("difference of means needs examples of both labels")
    a = acts.detach()
    return a[y].mean(0) - a[~y].mean(0)


def random_direction(vector: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A Gaussian direction with the same shape and norm as `vector` (the steering null)."""
    g = torch.randn(vector.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (g * (float(vector.double().norm()) / g.norm())).to(vector)


def relative_norm(vector: torch.Tensor, acts: torch.Tensor) -> float:
    """||v|| / mean ||h||, norms over the trailing axes that v has (per position if v is a d-vector)."""
    dims = tuple(range(acts.ndim - vector.ndim, acts.ndim))
    return float(vector.double().norm() / acts.detach().double().pow(2).sum(dims).sqrt().mean())


def flip_rate(
    subject: Any, site: Site, vector: torch.Tensor, *, inputs: torch.Tensor | None = None, scale: float = 1.0,
    target: int | None = None,
) -> float:
    """Fraction of inputs whose argmax prediction changes when scale * vector is added at `site`.

    With `target`: among inputs not already predicted as `target`, the fraction that now are.
    """
    x = subject.data.x if inputs is None else inputs
    before = subject.outputs(x).argmax(-1)
    after = subject.intervene({site: add(scale * vector)}, inputs=x).argmax(-1)
    if target is None:
        return float((before != after).double().mean())
    eligible = before != target
    if not eligible.any():
        return 0.0
    return float((after[eligible] == target).double().mean())


@dataclass(frozen=True)
class Steering:
    """Flip rate of the difference-of-means vector, of a random one of equal norm, and its relative norm."""

    flip: float
    random_flip: float
    relative_norm: float
    vector: torch.Tensor


def steering_effect(
    subject: Any, site: Site, labels: torch.Tensor, *, inputs: torch.Tensor | None = None, scale: float = 2.0,
    seed: int = 0, target: int | None = None,
) -> Steering:
    """Difference of means of `labels` at `site`, added with `scale`, against its random null."""
    x = subject.data.x if inputs is None else inputs
    acts = subject.activations(site, inputs=x)
    v = mean_difference(acts, labels)
    if v.ndim > 1:
        v = v.mean(tuple(range(v.ndim - 1)))  # one direction for every position
    return Steering(
        flip=flip_rate(subject, site, v, inputs=x, scale=scale, target=target),
        random_flip=flip_rate(subject, site, random_direction(v, seed), inputs=x, scale=scale, target=target),
        relative_norm=relative_norm(v, acts),
        vector=v,
    )
