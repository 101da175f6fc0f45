"""The task registry: one file per task, one line here."""

from __future__ import annotations

from typing import Any

from .._registry import Registry
from .base import Batch, InputSpec, Task
from .char_text import CharText
from .digits import Digits
from .modular_addition import ModularAddition
from .repeated_tokens import RepeatedTokens
from .shuffled import ShuffledLabels
from .sparse_parity import SparseParity
from .superposition import Superposition
from .token_identity import TokenIdentity

TASKS: Registry[type[Task]] = Registry("task")
TASKS.register(SparseParity.name, SparseParity)
TASKS.register(ModularAddition.name, ModularAddition)
TASKS.register(RepeatedTokens.name, RepeatedTokens)
TASKS.register(Superposition.name, Superposition)
TASKS.register(Digits.name, Digits)
TASKS.register(CharText.name, CharText)
TASKS.register(TokenIdentity.name, TokenIdentity)

DEFAULT_TASK = SparseParity.name


def make_task(name: str, **config: Any) -> Task:
    """Build a task by name; raises UnknownName or ValueError with a one-line message.

    `shuffle_labels=True` gives the shuffled-label null of the task (tasks/shuffled.py).
    """
    shuffle = config.pop("shuffle_labels", False)
    task = TASKS.get(name)(**config)
    return ShuffledLabels(task) if shuffle else task


__all__ = ["TASKS", "DEFAULT_TASK", "Batch", "InputSpec", "Task", "make_task"]
