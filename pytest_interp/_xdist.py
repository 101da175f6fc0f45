"""pytest-xdist scheduling by cell: all claims of one cell on one worker, so each worker trains
or loads a cell once (imported only when xdist asks for a scheduler)."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Callable, Sequence, TypeVar

from xdist.scheduler import LoadScopeScheduling

if TYPE_CHECKING:
    from ._grid import Cell

T = TypeVar("T")

#: A cell's parameter id ends with its seed (`mlp-1k-adam-s0`, `my-model-s2`); a claim's own
#: parameters follow it (`mlp-1k-adam-s0-logits`). The shortest prefix ending in a seed is a
#: function of the cell id alone, so every claim of one cell lands in one scope.
_CELL_ID = re.compile(r"^(.*?-s\d+)(?:-|$)")


def cell_scope(nodeid: str) -> str:
    """The scope of a test: its cell's parameter id, or the node id where it has none."""
    if "[" not in nodeid:
        return nodeid
    param = nodeid.split("[", 1)[1].split("@")[0].rstrip("]")
    found = _CELL_ID.match(param)
    return found.group(1) if found else param


class CellScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's load-scope scheduler with the cell (the test's cell parameter id) as the scope.

    Our own scheduler rather than `xdist_group` marks: those work by rewriting node ids,
    which newer pytest releases no longer honour. The whole parameter id is not the scope:
    a claim parametrized by more than the cell (`randomized=["logits", "all"]`) would send
    one cell to two workers, and both would train it.
    """

    def _split_scope(self, nodeid: str) -> str:
        return cell_scope(nodeid)


def cell_cost(cell: "Cell") -> float:
    """A rough training cost: the algorithm's relative cost times the square root of the size target
    (small models are overhead-bound, so time grows slower than parameters). Only an order, and a
    pure function of the cell: every worker must collect the same order, whatever the store holds."""
    from ._algorithms import ALGORITHMS
    from ._grid import parse_size

    if cell.source:
        return 0.0
    try:
        algo = float(ALGORITHMS.get(cell.optimizer).relative_cost)
        return algo * math.sqrt(parse_size(cell.size))
    except Exception:  # an unknown name is reported elsewhere; here it only sorts last
        return 0.0


def costliest_first(items: Sequence[T], cell_of: Callable[[T], "Cell | None"]) -> list[T]:
    """Items in the order their cells are best started on parallel workers: costliest first (so the
    run does not end with one worker on a long ES cell while the others idle), stable otherwise."""
    cost = {id(i): (cell_cost(c) if (c := cell_of(i)) is not None else 0.0) for i in items}
    return sorted(items, key=lambda i: -cost[id(i)])
