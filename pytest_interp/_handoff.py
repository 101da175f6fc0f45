"""Two collection-time plugin objects that `_plugin` registers: the stored-only deselection, which must
run after -k and -m, and the plan line's hand-off from the first xdist worker to the controller.

xdist's controller collects nothing and shows none of its workers' output, so the first worker
writes its plan line to a file the controller names, and the controller prints it once that worker
has collected. Remote workers cannot reach the file: there is no line, as before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

import pytest

PLAN_FILE = "interp_plan_file"
STORED_KEYS = "interp_stored_keys"


class StoredOnly:
    """A stored-only run: deselect, after every other deselection, the claims whose cell (or a
    declared sibling) the store lacks, so only the selected claims' cells are listed as left out.

    Under xdist every worker must collect the same tests, but a build may write into the store
    while they collect: the controller hands each worker the keys stored when it started, and a
    cell counts as stored only if it was then."""

    def __init__(self) -> None:
        self.snapshot: list[str] | None = None  # the controller's, taken when it configures the first worker

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        from ._plugin import _session

        if not _session(node.config).config.stored_only:
            return
        if self.snapshot is None:
            self.snapshot = sorted(_session(node.config).zoo.store.keys())
        node.workerinput[STORED_KEYS] = self.snapshot

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        from ._plugin import CELL_KEY, PENDING_KEY, _is_worker, _session

        if not any(CELL_KEY in i.stash for i in items) or not _session(config).config.stored_only:
            return
        from ._cell_plan import item_spec, not_stored

        zoo = _session(config).zoo
        keys = getattr(config, "workerinput", {}).get(STORED_KEYS)
        snapshot = frozenset(keys) if keys is not None else None
        keep: list[pytest.Item] = []
        dropped: list[pytest.Item] = []
        left_out: set[str] = set()
        for item in items:
            missing = not_stored(item_spec(item), item.stash[CELL_KEY], zoo, snapshot) if CELL_KEY in item.stash else []
            left_out.update(c.key for c in missing)
            (dropped if missing else keep).append(item)
        if _is_worker(config):  # it travels on the worker's first report to the controller
            config.stash[PENDING_KEY]["not_stored"] = sorted(left_out)
        else:
            _session(config).not_stored.update(left_out)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep


class PlanHandOff:
    """The plan line under xdist: written by worker gw0, printed by the controller."""

    def __init__(self) -> None:
        self.folder: str | None = None  # the controller's, made when it configures gw0

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if node.workerinput.get("workerid") != "gw0":
            return
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="interp-plan-")
        node.workerinput[PLAN_FILE] = os.path.join(self.folder, "plan.txt")

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        path = node.workerinput.get(PLAN_FILE)
        tr = node.config.pluginmanager.getplugin("terminalreporter")
        try:
            line = Path(path).read_text(encoding="utf-8").strip() if path else ""
        except OSError:
            return
        if line and tr is not None:
            tr.ensure_newline()
            tr.write_line(line)

    @pytest.hookimpl(tryfirst=True)  # before xdist tells the controller that collection finished
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """On the worker the controller asked: write the plan line (after every deselection)."""
        from ._plugin import CELL_KEY, _plan

        config, items = session.config, session.items
        path = getattr(config, "workerinput", {}).get(PLAN_FILE)
        if not path or config.option.collectonly or not any(CELL_KEY in i.stash for i in items):
            return
        try:
            Path(path).write_text(_plan(config, items), encoding="utf-8")
        except OSError:  # a remote worker: the controller's folder is not here
            pass

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
