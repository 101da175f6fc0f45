"""The task registry: one file per task, one line here."""

from __future__ import annotations

from typing import Any

from ..registry import Registry
from .base import Batch, InputSpec, Task
from .sparse_parity import SparseParity

TASKS: Registry[type[Task]] = Registry("task")
TASKS.register(SparseParity.name, SparseParity)

DEFAULT_TASK = SparseParity.name


def make_task(name: str, **config: Any) -> Task:
    """Build a task by name; raises UnknownName or ValueError with a one-line message."""
    return TASKS.get(name)(**config)


__all__ = ["TASKS", "DEFAULT_TASK", "Batch", "InputSpec", "Task", "make_task"]
