"""Sparse parity: the label is the XOR of k relevant bits among n (Barak et al. 2022).

Ground truth is exact, so probes have a known answer: the parity itself and each
relevant bit are latents. The 2^n inputs are split once into train and held-out
inputs, so test accuracy measures generalization, not memorization (PILOTS.md).
"""

from __future__ import annotations

import torch

from .base import Batch, InputSpec, Task


class SparseParity(Task):
    name = "sparse-parity"
    defaults = {"n": 10, "k": 2, "relevant": (3, 7), "test_fraction": 0.25, "split_seed": 0}
    accuracy_target = 0.95
    budget = {"steps": 1500, "batch_size": 64, "eval_every": 50}

    def validate(self) -> None:
        n, k, rel = self.config["n"], self.config["k"], tuple(self.config["relevant"])
        if not (isinstance(n, int) and 2 <= n <= 16):
            raise ValueError("sparse-parity: n must be an integer in 2..16")
        if len(rel) != k or len(set(rel)) != k or not all(0 <= b < n for b in rel):
            raise ValueError(f"sparse-parity: relevant must be {k} distinct bit indices below {n}")
        if not 0.0 < float(self.config["test_fraction"]) < 1.0:
            raise ValueError("sparse-parity: test_fraction must be in (0, 1)")
        self.config["relevant"] = tuple(sorted(rel))
        all_x = ((torch.arange(2**n).unsqueeze(1) >> torch.arange(n)) & 1).long()
        perm = torch.randperm(2**n, generator=torch.Generator().manual_seed(self.config["split_seed"]))
        n_test = max(1, int(round(2**n * float(self.config["test_fraction"]))))
        self._test_x = all_x[perm[:n_test]]
        self._train_x = all_x[perm[n_test:]]

    @property
    def spec(self) -> InputSpec:
        return InputSpec(modality="tokens", shape=(self.config["n"],), vocab=2, n_classes=2)

    def _batch(self, x: torch.Tensor) -> Batch:
        rel = list(self.config["relevant"])
        y = x[:, rel].sum(1) % 2
        latents = {"parity": y.clone()}
        for b in rel:
            latents[f"bit{b}"] = x[:, b].clone()
        return Batch(x=x, y=y, latents=latents)

    def related(self, count: int, seed: int = 0) -> list[Task]:
        """Parity tasks over other relevant-bit subsets, never the target's own subset."""
        n, k = self.config["n"], self.config["k"]
        gen = torch.Generator().manual_seed(seed)
        out: list[Task] = []
        seen = {tuple(self.config["relevant"])}
        while len(out) < count and len(seen) < _binom(n, k):
            rel = tuple(sorted(torch.randperm(n, generator=gen)[:k].tolist()))
            if rel not in seen:
                seen.add(rel)
                out.append(SparseParity(**{**self.config, "relevant": rel}))
        return out

    def train_batch(self, generator: torch.Generator, batch_size: int) -> Batch:
        idx = torch.randint(len(self._train_x), (batch_size,), generator=generator)
        return self._batch(self._train_x[idx])

    def test_set(self) -> Batch:
        return self._batch(self._test_x)


def _binom(n: int, k: int) -> int:
    from math import comb

    return comb(n, k)
