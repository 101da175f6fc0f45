"""What every architecture family declares: modalities, sites, a size rule and a builder."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Sequence

import torch
from torch import nn

from ..sites import SiteRule
from ..tasks.base import InputSpec


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class Family(ABC):
    """An architecture family.

    Subclasses set `name`, `modalities` (which input kinds they take) and `sites`
    (role -> SiteRule), and implement `candidates` (configs in increasing size, the
    documented width/depth rule) and `build`.
    """

    name: ClassVar[str]
    modalities: ClassVar[tuple[str, ...]]
    sites: ClassVar[dict[str, SiteRule]]

    @property
    def roles(self) -> list[str]:
        return list(self.sites)

    def unsupported(self, spec: InputSpec) -> str | None:
        """Why this family cannot take the task's inputs, or None if it can."""
        if spec.modality not in self.modalities:
            return f"{self.name} does not take {spec.modality} inputs"
        if spec.output != "class":
            return f"{self.name} has no per-position outputs"
        return None

    @abstractmethod
    def candidates(self, target: int, spec: InputSpec) -> Sequence[dict[str, Any]]:
        """Configs to choose from for a parameter target, in increasing parameter count."""

    @abstractmethod
    def build(self, config: dict[str, Any], spec: InputSpec) -> nn.Module: ...

    def count(self, config: dict[str, Any], spec: InputSpec) -> int:
        """Parameter count without allocating memory (built on the meta device)."""
        with torch.device("meta"):
            return count_params(self.build(config, spec))

    def fit(self, target: int, spec: InputSpec) -> tuple[dict[str, Any], int]:
        """The candidate whose parameter count is nearest the target (binary search)."""
        cands = list(self.candidates(target, spec))
        if not cands:
            raise ValueError(f"{self.name}: no configuration for {target} parameters")
        lo, hi = 0, len(cands) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.count(cands[mid], spec) < target:
                lo = mid + 1
            else:
                hi = mid
        best = min(
            (i for i in (lo - 1, lo) if 0 <= i < len(cands)),
            key=lambda i: abs(self.count(cands[i], spec) - target),
        )
        return dict(cands[best]), self.count(cands[best], spec)
