"""pytest-xdist scheduling by cell: all claims of one cell on one worker, so each worker trains
or loads a cell once (imported only when xdist asks for a scheduler)."""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling


class CellScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's load-scope scheduler with the cell (the test's parameter id) as the scope.

    Our own scheduler rather than `xdist_group` marks: those work by rewriting node ids,
    which newer pytest releases no longer honour.
    """

    def _split_scope(self, nodeid: str) -> str:
        return nodeid.split("[", 1)[1].split("@")[0] if "[" in nodeid else nodeid
