"""Handwritten digits: the 1797 8x8 images of the UCI optical digits set (shipped in tasks/data).

The real-data task (DESIGN.md prefers real data for images): saliency sanity checks
(Adebayo et al. 2018) and representation similarity were piloted on it (PILOTS.md:
.96-.98 test accuracy for small CNNs, MLPs and GRUs). Pixels are scaled to [0, 1].
Latents: the digit, and the ink (sum of pixel intensities).
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import resources

import torch

from .base import Batch, InputSpec, Task


@lru_cache(maxsize=1)
def load_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """(images (1797, 1, 8, 8) in [0, 1], labels (1797,)); validated before use."""
    raw = resources.files("pytest_interp._tasks").joinpath("data/digits.csv.gz").read_bytes()
    rows = [line.split(",") for line in gzip.decompress(raw).decode("ascii").strip().splitlines()]
    data = torch.tensor([[int(v) for v in r] for r in rows], dtype=torch.long)
    if data.shape != (1797, 65) or data[:, :64].min() < 0 or data[:, :64].max() > 16:
        raise ValueError("digits data file is damaged")
    images = data[:, :64].float().div(16.0).reshape(-1, 1, 8, 8)
    return images, data[:, 64].clone()


class Digits(Task):
    name = "digits"
    defaults = {"test_fraction": 0.25, "split_seed": 0}
    accuracy_target = 0.9
    budget = {"steps": 1500, "batch_size": 64, "eval_every": 50}

    def validate(self) -> None:
        if not 0.0 < float(self.config["test_fraction"]) < 1.0:
            raise ValueError("digits: test_fraction must be in (0, 1)")
        images, labels = load_digits()
        perm = torch.randperm(len(labels), generator=torch.Generator().manual_seed(self.config["split_seed"]))
        n_test = int(round(len(labels) * float(self.config["test_fraction"])))
        self._test, self._train = perm[:n_test], perm[n_test:]

    @property
    def spec(self) -> InputSpec:
        return InputSpec(modality="images", shape=(1, 8, 8), n_classes=10)

    def _batch(self, idx: torch.Tensor) -> Batch:
        images, labels = load_digits()
        x, y = images[idx], labels[idx]
        return Batch(x=x, y=y, latents={"digit": y.clone(), "ink": x.sum((1, 2, 3))})

    def train_batch(self, generator: torch.Generator, batch_size: int) -> Batch:
        return self._batch(self._train[torch.randint(len(self._train), (batch_size,), generator=generator)])

    def test_set(self) -> Batch:
        return self._batch(self._test)
