"""What a checkpoint store holds, and clearing out what no run will read again.

A store only grows: every cell trained is kept (that is its job), and a cell whose training was
interrupted leaves a snapshot that the next run needing the cell goes on from. A snapshot whose
cell no run asks for any more (another budget, a grid given up) is never read again, nor is the
temporary file of a write that was killed. `prune` removes those once they are old, and damaged
checkpoints (they would be retrained anyway); it never removes a checkpoint that loads.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["checkpoint", "damaged", "snapshot", "temporary"]


@dataclass(frozen=True)
class Entry:
    """One file of the store: a checkpoint (its cell and training metrics), a damaged checkpoint,
    a snapshot of interrupted training (its cell where recorded, step and budget) or a temporary file."""

    kind: Kind
    path: Path
    size: int  # bytes on disk
    modified: float  # seconds since the epoch
    cell: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


def contents(root: Path) -> list[Entry]:
    """Every file of the store's own folder (not the prebuilt layers, which are read-only), sorted by
    kind and cell; lock files are left out (empty, and held by running builds)."""
    from ._store import _KEY

    entries = []
    if not root.is_dir():
        return []
    for path in sorted(root.glob("??/*")):
        if not path.is_file() or path.is_symlink():
            continue
        stat = path.stat()
        if path.suffix == ".safetensors" and _KEY.match(path.stem):
            entries.append(_checkpoint(path, stat.st_size, stat.st_mtime))
        elif path.suffix == ".resume" and _KEY.match(path.stem):
            entries.append(_snapshot(path, stat.st_size, stat.st_mtime))
        elif path.name.startswith(".") and path.name.endswith(".tmp"):
            entries.append(Entry("temporary", path, stat.st_size, stat.st_mtime))
    order = {"checkpoint": 0, "snapshot": 1, "damaged": 2, "temporary": 3}
    return sorted(entries, key=lambda e: (order[e.kind], e.cell or "", e.path.name))


def _checkpoint(path: Path, size: int, modified: float) -> Entry:
    from ._store import Store

    try:
        meta = Store._header_meta(path)
    except Exception:  # noqa: BLE001 - any unreadable header is a damaged file, whatever the library raises
        return Entry("damaged", path, size, modified)
    metrics = meta.get("metrics")
    cell = meta.get("cell")
    return Entry("checkpoint", path, size, modified, cell if isinstance(cell, str) else None,
                 dict(metrics) if isinstance(metrics, dict) else {})


def _snapshot(path: Path, size: int, modified: float) -> Entry:
    from ._resume import snapshot_header, snapshot_loop

    try:
        meta = snapshot_header(path)
    except Exception:  # noqa: BLE001 - a torn snapshot is ignored and removed by the run that finds it
        return Entry("snapshot", path, size, modified, info={"unreadable": True})
    found = meta.get("label")
    label: dict[str, Any] = found if isinstance(found, dict) else {}
    info: dict[str, Any] = {"device": meta.get("device")}
    position = snapshot_loop(meta)
    if position is not None:
        info["step"], info["seconds"] = position
    if isinstance(label.get("steps"), int):
        info["steps"] = label["steps"]
    cell = label.get("cell") if isinstance(label.get("cell"), str) else None
    return Entry("snapshot", path, size, modified, cell, info)


def outcome(entry: Entry) -> str:
    """A checkpoint's training outcome in the words results use."""
    m = entry.info
    if m.get("diverged"):
        return "diverged"
    return "trained" if m.get("reached") else "untrained"


def prune(root: Path, older_than_s: float, dry_run: bool = False, now: float | None = None) -> list[Entry]:
    """Remove the snapshots and temporary files not written for `older_than_s` seconds, and damaged
    checkpoints; return what was (with `dry_run`: would be) removed. A snapshot of a cell in training
    is rewritten about once a minute, so an old one belongs to no running build."""
    now = time.time() if now is None else now
    gone = [e for e in contents(root)
            if e.kind == "damaged" or (e.kind in ("snapshot", "temporary") and now - e.modified >= older_than_s)]
    if not dry_run:
        for e in gone:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(e.path)
    return gone
