"""Helpers for tests that read results files (a module, not conftest: nested conftests share that name)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_results(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def without_timings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The results with training seconds removed: everything else must be identical across runs."""
    out = []
    for r in doc["results"]:
        training = {k: v for k, v in r["training"].items() if k != "seconds"} if r["training"] else None
        out.append({**r, "training": training})
    return out
