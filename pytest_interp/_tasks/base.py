"""What every task offers the trainer and the claims: data, a target, ground-truth latents."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

MODALITIES = ("tokens", "vectors", "images")
OUTPUTS = ("class", "position", "vector")
#: label of positions with nothing to predict (cross-entropy's ignore_index)
IGNORE = -100


@dataclass(frozen=True)
class InputSpec:
    """The shape of a task's inputs and outputs, which is all a family needs to build a model.

    tokens: integer sequences of length shape[0] over `vocab`; vectors: float (shape[0],);
    images: float (C, H, W). `output` is "class" for one label per input, "position" for
    one label per position (next-token prediction; label -100 where nothing is predictable),
    "vector" for a real vector of n_classes values per input (regression).
    """

    modality: str
    shape: tuple[int, ...]
    n_classes: int
    vocab: int = 0
    output: str = "class"


@dataclass
class Batch:
    """Inputs, labels, and the ground-truth latents claims may probe (one row per input)."""

    x: torch.Tensor
    y: torch.Tensor
    latents: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.x.shape[0])


class Task(ABC):
    """A seeded data source with a held-out test set and an accuracy target.

    Subclasses set `name`, `defaults` (every config key, so keys hash the same whether
    a value was given or defaulted) and `accuracy_target`.
    """

    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}
    accuracy_target: ClassVar[float] = 0.95
    #: stop once the target is met twice in a row; a null (shuffled labels) trains its whole budget
    early_stop: ClassVar[bool] = True
    #: training budget in steps and batch size; budgets in steps keep results machine-independent.
    budget: ClassVar[dict[str, int]] = {"steps": 2000, "batch_size": 64, "eval_every": 50}

    def __init__(self, **config: Any) -> None:
        unknown = set(config) - set(self.defaults)
        if unknown:
            raise ValueError(f"task {self.name!r} has no option(s) {', '.join(sorted(unknown))}")
        self.config: dict[str, Any] = {**self.defaults, **config}
        self.validate()

    def validate(self) -> None:
        """Raise ValueError on a config that cannot work."""

    @property
    @abstractmethod
    def spec(self) -> InputSpec: ...

    @abstractmethod
    def train_batch(self, generator: torch.Generator, batch_size: int) -> Batch:
        """A fresh training batch drawn with `generator` (never from the test split)."""

    @abstractmethod
    def test_set(self) -> Batch:
        """The fixed held-out set: accuracy targets and claims are measured on it."""

    def related(self, count: int, seed: int = 0) -> list["Task"]:
        """Tasks of the same family with the same input spec (for meta-learning); none by default."""
        return []

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.spec.output == "position":
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE)
        return F.cross_entropy(logits, y)

    def accuracy(self, logits: torch.Tensor, y: torch.Tensor) -> float:
        """Held-out accuracy; for per-position outputs, over the predictable positions only."""
        if self.spec.output == "position":
            keep = y != IGNORE
            return float((logits.argmax(-1)[keep] == y[keep]).float().mean()) if keep.any() else 0.0
        return float((logits.argmax(-1) == y).float().mean())

    def describe(self) -> dict[str, Any]:
        """Everything that determines the data: goes into the checkpoint key."""
        return {"name": self.name, **{k: _plain(v) for k, v in sorted(self.config.items())}}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value
