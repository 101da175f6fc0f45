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
    #: the only families the claim applies to (empty: every family); others are `n/a` before training
    families: tuple[str, ...] = ()
    #: seed offsets the claim asks `model.sibling(model.seed + k)` for: built with the grid, counted in its plan
    siblings: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        bad = [r for r in self.needs if r not in ROLES]
        if bad:
            raise ValueError(f"unknown role(s) {bad}; roles are {', '.join(ROLES)}")


def claim(task: str = DEFAULT_TASK, needs: Iterable[str] = (), *, families: Iterable[str] = (),
          siblings: Iterable[int] = (), **task_options: Any) -> Callable[[F], F]:
    """Mark a test as a claim: `@claim(task="sparse-parity", needs=["hidden"])`.

    Cells whose family lacks a needed role, or is not among `families` when given (a claim
    about one architecture's parameters, e.g. the toy model of superposition), are `n/a`
    before anything trains. `siblings=[1]` says the claim compares each cell with the one at
    the next seed (`model.sibling(model.seed + 1)`): those cells are then trained before the
    claims run, with progress, and counted in the run's plan, instead of on first use. Other
    keywords are the task's options.
    """
    spec = ClaimSpec(task, tuple(needs), dict(task_options), _names(families), _offsets(siblings))

    def mark(fn: F) -> F:
        setattr(fn, ATTR, spec)
        return fn

    return mark


def _names(families: Iterable[str]) -> tuple[str, ...]:
    if isinstance(families, str):
        families = [families]
    names = tuple(families)
    if not all(isinstance(f, str) and f for f in names):
        raise ValueError(f"families must be family names, not {families!r}")
    return names


def _offsets(siblings: Iterable[int]) -> tuple[int, ...]:
    offsets: tuple[Any, ...] = (siblings,) if isinstance(siblings, (int, float, str)) else tuple(siblings)
    if not all(isinstance(k, int) and not isinstance(k, bool) and k != 0 for k in offsets):
        raise ValueError(f"siblings must be non-zero seed offsets such as [1], not {siblings!r}")
    return tuple(sorted(set(offsets)))


def claim_spec(fn: Any, marker_kwargs: dict[str, Any] | None = None) -> ClaimSpec:
    """The spec from the decorator, else from `@pytest.mark.interp(...)`, else defaults."""
    spec = getattr(fn, ATTR, None)
    if spec is not None:  # duck-typed: a re-imported module (pytester) makes a new ClaimSpec class
        return ClaimSpec(spec.task, tuple(spec.needs), dict(spec.task_options), tuple(getattr(spec, "families", ())),
                         tuple(getattr(spec, "siblings", ())))
    if marker_kwargs:
        kw = dict(marker_kwargs)
        task, needs, families = kw.pop("task", DEFAULT_TASK), tuple(kw.pop("needs", ())), _names(kw.pop("families", ()))
        return ClaimSpec(task, needs, kw, families, _offsets(kw.pop("siblings", ())))
    return ClaimSpec()
