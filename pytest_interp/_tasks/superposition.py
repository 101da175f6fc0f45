"""Toy superposition: reconstruct n sparse features through a narrow model (Elhage et al. 2022).

Each feature is 0 with probability `sparsity`, else uniform in [0, 1]; feature i has
importance decay^i and the loss is the importance-weighted squared error. The bottleneck m
is the model's width, which its size sets. "Accuracy" here is the importance-weighted
fraction of variance explained (R^2), with the target 0.5: a model that explains less has
not learned to reconstruct enough features for a count of represented features to mean
anything (PILOTS.md: check the loss before believing a count).
Latents: the features themselves.
"""

from __future__ import annotations

import torch

from .base import Batch, InputSpec, Task


class Superposition(Task):
    name = "superposition"
    defaults = {"n": 20, "sparsity": 0.9, "decay": 0.7, "test_size": 2048, "test_seed": 0}
    accuracy_target = 0.5
    #: train the whole budget: the geometry keeps changing after R^2 passes 0.5 (a tied-ae stopped
    #: there "represented" 6 dense features in 5 dimensions; trained on, exactly 5)
    early_stop = False
    budget = {"steps": 3000, "batch_size": 1024, "eval_every": 100}

    def validate(self) -> None:
        if not 2 <= self.config["n"] <= 4096:
            raise ValueError("superposition: n must be in 2..4096")
        if not 0.0 <= float(self.config["sparsity"]) < 1.0:
            raise ValueError("superposition: sparsity must be in [0, 1)")
        if not 0.0 < float(self.config["decay"]) <= 1.0:
            raise ValueError("superposition: decay must be in (0, 1]")

    @property
    def spec(self) -> InputSpec:
        n = self.config["n"]
        return InputSpec(modality="vectors", shape=(n,), n_classes=n, output="vector")

    @property
    def importance(self) -> torch.Tensor:
        return float(self.config["decay"]) ** torch.arange(self.config["n"], dtype=torch.float32)

    def _sample(self, gen: torch.Generator, size: int) -> Batch:
        n = self.config["n"]
        values = torch.rand(size, n, generator=gen)
        keep = torch.rand(size, n, generator=gen) >= float(self.config["sparsity"])
        x = values * keep
        return Batch(x=x, y=x.clone(), latents={"features": x.clone()})

    def train_batch(self, generator: torch.Generator, batch_size: int) -> Batch:
        return self._sample(generator, batch_size)

    def test_set(self) -> Batch:
        return self._sample(torch.Generator().manual_seed(self.config["test_seed"]), self.config["test_size"])

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (self.importance.to(y.device) * (logits - y) ** 2).mean()

    def accuracy(self, logits: torch.Tensor, y: torch.Tensor) -> float:
        w = self.importance.to(y.device)
        resid = (w * (logits - y) ** 2).sum()
        total = (w * (y - y.mean(0, keepdim=True)) ** 2).sum().clamp_min(1e-12)
        return float(1.0 - resid / total)
