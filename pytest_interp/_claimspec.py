"""How a test function says it is a claim: which task its models learn, which roles it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, TypeVar

from ._sites import ROLES
from ._tasks import DEFAULT_TASK

F = TypeVar("F", bound=Callable[..., Any])
ATTR = "__pytest_interp_claim__"


@dataclass(frozen=True)
class ClaimSpec:
    task: str = DEFAULT_TASK
    needs: tuple[str, ...] = ()
    task_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = [r for r in self.needs if r not in ROLES]
        if bad:
            raise ValueError(f"unknown role(s) {bad}; roles are {', '.join(ROLES)}")


def claim(task: str = DEFAULT_TASK, needs: Iterable[str] = (), **task_options: Any) -> Callable[[F], F]:
    """Mark a test as a claim: `@claim(task="sparse-parity", needs=["hidden"])`.

    Cells whose family lacks a needed role are `n/a` before the claim runs.
    """
    spec = ClaimSpec(task, tuple(needs), dict(task_options))

    def mark(fn: F) -> F:
        setattr(fn, ATTR, spec)
        return fn

    return mark


def claim_spec(fn: Any, marker_kwargs: dict[str, Any] | None = None) -> ClaimSpec:
    """The spec from the decorator, else from `@pytest.mark.interp(...)`, else defaults."""
    spec = getattr(fn, ATTR, None)
    if spec is not None:  # duck-typed: a re-imported module (pytester) makes a new ClaimSpec class
        return ClaimSpec(spec.task, tuple(spec.needs), dict(spec.task_options))
    if marker_kwargs:
        kw = dict(marker_kwargs)
        return ClaimSpec(kw.pop("task", DEFAULT_TASK), tuple(kw.pop("needs", ())), kw)
    return ClaimSpec()
