"""What every architecture family declares: modalities, sites, a size rule and a builder."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Sequence

import torch
from torch import nn

from .._sites import SiteRule
from .._tasks.base import OUTPUTS, InputSpec

#: A size target is met when the actual count is within this fraction of it (issue 3: +-25%).
TOLERANCE = 0.25


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class Family(ABC):
    """An architecture family.

    Subclasses set `name`, `modalities` (which input kinds they take), `outputs`
    ("class" / "vector": one prediction per input, read out the same way; "position":
    one per position, causal), `sites` (role -> SiteRule) and `reasons` (modality or
    output -> why not, shown with n/a), and implement `candidates` (configs in
    increasing size, the documented width/depth rule) and `build`.
    """

    name: ClassVar[str]
    modalities: ClassVar[tuple[str, ...]]
    outputs: ClassVar[tuple[str, ...]] = ("class", "vector")
    sites: ClassVar[dict[str, SiteRule]]
    reasons: ClassVar[dict[str, str]] = {}

    @property
    def roles(self) -> list[str]:
        return list(self.sites)

    def unsupported(self, spec: InputSpec) -> str | None:
        """Why this family cannot take the task's inputs or give its outputs, or None if it can."""
        if spec.modality not in self.modalities:
            return self._because(f"{self.name} does not take {spec.modality} inputs", spec.modality)
        if spec.output not in OUTPUTS:
            return f"unknown output kind {spec.output!r} (known: {', '.join(OUTPUTS)})"
        if spec.output not in self.outputs:
            what = "per-position outputs" if spec.output == "position" else f"{spec.output} outputs"
            return self._because(f"{self.name} has no {what}", spec.output)
        if spec.output == "position" and spec.modality == "images":
            return "per-position outputs are defined for sequences, not images"
        return None

    def _because(self, text: str, key: str) -> str:
        why = self.reasons.get(key)
        return f"{text} ({why})" if why else text

    @abstractmethod
    def candidates(self, target: int, spec: InputSpec) -> Sequence[dict[str, Any]]:
        """Configs to choose from for a parameter target, in increasing parameter count."""

    @abstractmethod
    def build(self, config: dict[str, Any], spec: InputSpec) -> nn.Module: ...

    def count(self, config: dict[str, Any], spec: InputSpec) -> int:
        """Parameter count without allocating memory (built on the meta device), memoized:
        `fit` and `size_note` ask for the same configurations many times."""
        cache: dict[tuple[str, InputSpec], int] = self.__dict__.setdefault("_counts", {})
        key = (json.dumps(config, sort_keys=True, default=str), spec)
        if key not in cache:
            with torch.device("meta"):
                cache[key] = count_params(self.build(config, spec))
        return cache[key]

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

    def size_note(self, target: int, spec: InputSpec) -> str | None:
        """Why the nearest configuration misses the target by more than TOLERANCE, or None.

        The report shows it next to the actual count, so an off-target cell says why.
        """
        config, actual = self.fit(target, spec)
        if abs(actual - target) <= TOLERANCE * target:
            return None
        cands = list(self.candidates(target, spec))
        smallest, largest = self.count(cands[0], spec), self.count(cands[-1], spec)
        if target < smallest:
            return (f"nearest feasible is {actual} params: the smallest {self.name} for these inputs "
                    f"has {smallest} ({self.breakdown(cands[0], spec)})")
        if target > largest:
            return f"nearest feasible is {actual} params: the largest {self.name} configuration has {largest}"
        return f"nearest feasible is {actual} params: no {self.name} configuration lies nearer ({config})"

    def breakdown(self, config: dict[str, Any], spec: InputSpec) -> str:
        """Parameters per top-level part, e.g. 'embed 256, blocks 488, head 320'."""
        with torch.device("meta"):
            module = self.build(config, spec)
        parts = [(name, count_params(child)) for name, child in module.named_children()]
        return ", ".join(f"{name} {n}" for name, n in parts if n)
