"""Shared specs and builders for the family tests (not a conftest: a unique module name avoids clashes)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import pytest
import torch

from pytest_interp._families import FAMILIES, Family
from pytest_interp._grid import Cell
from pytest_interp._subject import Counters, Subject
from pytest_interp._tasks.base import Batch, InputSpec, Task

#: One spec per modality the issue names, plus a per-position (language-model-like) one.
SPECS: dict[str, InputSpec] = {
    "tokens": InputSpec("tokens", (10,), n_classes=2, vocab=2),
    "vectors": InputSpec("vectors", (12,), n_classes=3),
    "images": InputSpec("images", (1, 8, 8), n_classes=10),
    "position": InputSpec("tokens", (9,), n_classes=7, vocab=7, output="position"),
}

FAMILY_NAMES: list[str] = FAMILIES.names()


def sample_inputs(spec: InputSpec, n: int, seed: int = 0) -> torch.Tensor:
    """Seeded random inputs of the spec's shape."""
    g = torch.Generator().manual_seed(seed)
    if spec.modality == "tokens":
        return torch.randint(0, spec.vocab, (n, *spec.shape), generator=g)
    return torch.randn(n, *spec.shape, generator=g)


class SyntheticTask(Task):
    """A task with only a spec and random inputs, for modalities no registered task has yet (images)."""

    name = "synthetic"
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, spec: InputSpec) -> None:
        super().__init__()
        self._spec = spec

    @property
    def spec(self) -> InputSpec:
        return self._spec

    def train_batch(self, generator: torch.Generator, batch_size: int) -> Batch:
        return self.test_set()

    def test_set(self) -> Batch:
        x = sample_inputs(self._spec, 16)
        shape = (16, self._spec.shape[0]) if self._spec.output == "position" else (16,)
        return Batch(x, torch.zeros(shape, dtype=torch.long))


def supported(family: str, spec_name: str) -> bool:
    return FAMILIES.get(family).unsupported(SPECS[spec_name]) is None


@lru_cache(maxsize=None)
def _fit(family: str, spec_name: str, target: int) -> tuple[dict[str, Any], int]:
    return FAMILIES.get(family).fit(target, SPECS[spec_name])


def make_subject(family: str, spec_name: str, target: int = 3_000, seed: int = 0) -> Subject:
    """A fresh untrained subject of the family nearest `target` parameters; small targets keep tests fast."""
    fam: Family = FAMILIES.get(family)
    spec = SPECS[spec_name]
    config, params = _fit(family, spec_name, target)
    config = dict(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = fam.build(config, spec)
    cell = Cell(family, str(target), "adam", "synthetic", seed)
    return Subject(module, cell, SyntheticTask(spec), params=params, metrics={}, checkpoint_sha256=None,
                   counters=Counters())


def cells() -> list[Any]:
    """(family, spec name) pairs the family supports, as pytest params with readable ids."""
    return [pytest.param(f, s, id=f"{f}-{s}") for f in FAMILY_NAMES for s in SPECS if supported(f, s)]
