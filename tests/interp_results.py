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


def run_claim_file(pytester: Any, name: str, *args: str, zoo: str | None = None) -> list[dict[str, Any]]:
    """Copy claims/NAME into a pytester folder's claims/, run it (on ZOO, a zoo file's text, if given), return its results.

    `--import-mode=importlib` keeps the copied claim module apart from the outer test session's modules.
    """
    import shutil

    root = Path(__file__).resolve().parents[1]
    (pytester.path / "claims").mkdir()
    shutil.copy(root / "claims" / name, pytester.path / "claims")
    if zoo is not None:
        (pytester.path / "zoo.toml").write_text(zoo)
        args = ("--interp-models=zoo.toml", *args)
    out = pytester.path / "results.json"
    pytester.runpytest("claims", "--import-mode=importlib", *args, f"--interp-json={out}")
    return list(read_results(out)["results"])
