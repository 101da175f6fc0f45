"""Shuffled labels: the same inputs with labels that no longer follow from them (a null model).

Each input gets a fixed pseudo-random label (a seeded hash of the input), so a model can
only memorize: what a claim measures on it is what the architecture and training give
without the task's structure (Adebayo et al. 2018's label-randomization test). Only tasks
with one label per input can be shuffled.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from .base import Batch, InputSpec, Task


class ShuffledLabels(Task):
    name = "shuffled"
    defaults: ClassVar[dict[str, Any]] = {}
    accuracy_target: ClassVar[float] = 0.0  # a null model has no target: it is never `untrained`
    early_stop: ClassVar[bool] = False  # it memorizes for its whole budget

    def __init__(self, inner: Task, seed: int = 0) -> None:
        if inner.spec.output != "class":
            raise ValueError(f"{inner.name} has no single label per input to shuffle")
        self.inner = inner
        self.config = {**inner.config, "shuffle_labels": True}
        self.name = inner.name  # type: ignore[misc]
        self.budget = dict(inner.budget)  # type: ignore[misc]
        gen = torch.Generator().manual_seed(seed + 7)
        width = 1
        for d in inner.spec.shape:
            width *= d
        self._weights = torch.randint(1, 2**31 - 1, (width,), generator=gen)

    @property
    def spec(self) -> InputSpec:
        return self.inner.spec

    def _relabel(self, batch: Batch) -> Batch:
        x = batch.x.reshape(len(batch), -1)
        keys = x.long() if not x.is_floating_point() else (x * 4096).round().long()
        h = (keys * self._weights).sum(1)
        h = (h ^ (h >> 13)) * 0x5BD1E995 % (2**31 - 1)
        y = (h % self.spec.n_classes).long()
        return Batch(x=batch.x, y=y, latents={**batch.latents, "shuffled_label": y.clone()})

    def train_batch(self, generator: torch.Generator, batch_size: int) -> Batch:
        return self._relabel(self.inner.train_batch(generator, batch_size))

    def test_set(self) -> Batch:
        return self._relabel(self.inner.test_set())

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "shuffle_labels": True}
