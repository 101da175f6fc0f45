"""pytest-xdist scheduling by cell: all claims of one cell on one worker, so each worker trains
or loads a cell once (imported only when xdist asks for a scheduler)."""

from __future__ import annotations

import re

from xdist.scheduler import LoadScopeScheduling

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
