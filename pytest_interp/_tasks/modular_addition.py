"""Modular addition: (a + b) mod p from the tokens [a, b, =] (Nanda et al. 2023, arXiv 2301.05217).

Defaults from PILOTS.md: p = 53, half of all p^2 pairs for training, full batch; grokking
needs weight decay (AdamW, wd 1.0) and 600-2500 steps; at train fraction 0.4 nothing grokked.
Latents: a, b and the sum. Related tasks (for meta-learning) add a fixed offset c.
"""

from __future__ import annotations

import torch

from .base import Batch, InputSpec, Task


class ModularAddition(Task):
    name = "modular-addition"
    defaults = {"p": 53, "train_fraction": 0.5, "split_seed": 0, "offset": 0}
    accuracy_target = 0.95
    budget = {"steps": 3000, "batch_size": 2048, "eval_every": 100}

    def validate(self) -> None:
        p = self.config["p"]
        if not (isinstance(p, int) and 3 <= p <= 211):
            raise ValueError("modular-addition: p must be an integer in 3..211")
        if not 0.0 < float(self.config["train_fraction"]) < 1.0:
            raise ValueError("modular-addition: train_fraction must be in (0, 1)")
        a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
        pairs = torch.stack([a.reshape(-1), b.reshape(-1)], 1)
        perm = torch.randperm(p * p, generator=torch.Generator().manual_seed(self.config["split_seed"]))
        n_train = int(round(p * p * float(self.config["train_fraction"])))
        self._train, self._test = pairs[perm[:n_train]], pairs[perm[n_train:]]

    @property
    def spec(self) -> InputSpec:
        p = self.config["p"]
        return InputSpec(modality="tokens", shape=(3,), vocab=p + 1, n_classes=p)

    def _batch(self, pairs: torch.Tensor) -> Batch:
        p = self.config["p"]
        eq = torch.full((len(pairs), 1), p, dtype=torch.long)
        x = torch.cat([pairs, eq], 1)
        y = (pairs[:, 0] + pairs[:, 1] + self.config["offset"]) % p
        return Batch(x=x, y=y, latents={"a": pairs[:, 0].clone(), "b": pairs[:, 1].clone(), "sum": y.clone()})

    def train_batch(self, generator: torch.Generator, batch_size: int) -> Batch:
        if batch_size >= len(self._train):  # full batch, as in the paper
            return self._batch(self._train)
        return self._batch(self._train[torch.randint(len(self._train), (batch_size,), generator=generator)])

    def test_set(self) -> Batch:
        return self._batch(self._test)

    def related(self, count: int, seed: int = 0) -> list[Task]:
        p = self.config["p"]
        offsets = [c for c in torch.randperm(p, generator=torch.Generator().manual_seed(seed)).tolist()
                   if c != self.config["offset"]][:count]
        return [ModularAddition(**{**self.config, "offset": c}) for c in offsets]
