"""The results file: a versioned JSON contract (docs/results-schema.md).

Results are sorted by (claim, family, size, optimizer, task, seed) so the same run
gives the same bytes, and shards or labs can be merged by key.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from .._grid import parse_size

SCHEMA_VERSION = 1


def sort_key(r: Mapping[str, Any]) -> tuple[Any, ...]:
    try:
        size = parse_size(str(r.get("size")))
    except ValueError:
        size = 0
    return (r["claim"], r.get("variant") or "", r["family"], size, r["optimizer"], r["task"], r["seed"])


def build(results: Iterable[Mapping[str, Any]], stats: Mapping[str, Any], grid: Mapping[str, Any],
          quorum: Any = None, stopped_early: str | None = None, not_stored: list[str] | None = None) -> dict[str, Any]:
    """The results document; `stopped_early` says why a run ended before every collected claim ran,
    and `not_stored` which cells a stored-only run left out, so its results are never read as the
    whole grid's."""
    from .._verdicts import Quorum, aggregate
    from .trend import trends

    rows = sorted((dict(r) for r in results), key=sort_key)
    verdicts = sorted(aggregate(rows, quorum or Quorum()), key=lambda v: sort_key({**v, "seed": 0}))
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "grid": dict(grid),
        "stats": dict(sorted(stats.items())),
        "results": rows,
        "verdicts": verdicts,
        "trends": trends(verdicts),
    }
    if stopped_early:
        doc["stopped_early"] = stopped_early
    if not_stored is not None:
        doc["not_stored"] = sorted(set(not_stored))
    return doc


def write(path: Path, document: Mapping[str, Any]) -> None:
    """Atomic write: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=2, sort_keys=False, allow_nan=False)
            fh.write("\n")
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; a results file is for sharing
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
