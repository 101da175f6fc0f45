"""A findings file's last results: what they measured, how long its cells trained, and what a
stored-only run keeps of them for the cells its store lacks.

The results files in docs/findings/ outlive any one store: a study that moves to another machine
(or whose store was pruned) reads here what is measured already, instead of training it again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Mapping


def carry_last(partial: Path, last: Path, claim_file: Path, zoo_file: Path, store: Path | None) -> None:
    """Keep the last results for the cells this store lacks, in the stored-only results: a study
    trained on several machines (or after a store was pruned) adds up instead of starting over."""
    from ._errors import ConfigError
    from ._report.merge import ResultsFileError, carry_forward, load_results
    from ._report.results import write

    if not last.is_file():
        return
    try:
        doc, kept, dropped = carry_forward(load_results(partial), load_results(last), claim_names(claim_file),
                                           last.name, cell_keys(claim_file, zoo_file, store))
    except (ResultsFileError, ConfigError, ValueError, SyntaxError, OSError) as exc:
        print(f"pytest-interp findings: {claim_file}: the last results are not kept: {exc}", file=sys.stderr)
        return
    if kept:
        write(partial, doc)
        print(f"pytest-interp findings: {claim_file}: kept {kept} results of cells this store lacks from "
              f"{last.name}", flush=True)
    if dropped:
        print(f"pytest-interp findings: {claim_file}: {dropped} results of {last.name} are not kept: their claim "
              f"changed or is gone, their cell is not on this grid, or it would be trained differently now",
              file=sys.stderr)


def cell_keys(claim_file: Path, zoo_file: Path, store: Path | None) -> dict[str, str]:
    """The store key each of the file's cells would be trained under now, by cell key (nothing is
    built): a kept result trained under another key (other defaults, another budget) is stale."""
    from ._cell_plan import claim_cells
    from ._grid import load_zoo
    from ._store import Store, default_store_dir
    from ._zoo import Zoo

    grid = load_zoo(zoo_file)
    zoo = Zoo(Store(store or default_store_dir()), hparams=grid.hparams, budget=grid.budget)
    return {c.key: zoo.plan(c).key for c in claim_cells(grid, [claim_file]) if not zoo.unsupported(c)}


def claim_names(path: Path) -> set[str]:
    """The claim file's test functions, read from its source (it is never imported here)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name.startswith("test")}


def last_results(results_dir: Path, stem: str) -> dict[str, Any] | None:
    """A file's last results (validated), or None where there is no usable one (said on stderr)."""
    from ._report.merge import ResultsFileError, load_results

    path = results_dir / f"{stem}.json"
    if not path.is_file():
        return None
    try:
        return load_results(path)
    except ResultsFileError as exc:
        print(f"pytest-interp findings: {exc}; its cells count as not measured", file=sys.stderr)
        return None


def measured_cells(doc: Mapping[str, Any] | None) -> set[str]:
    """The cells a file's last results measured (so a build need not train them again): those
    with results, less those a stored-only run left out (an n/a result needs no training)."""
    if doc is None:
        return set()
    return {r["cell"] for r in doc["results"]} - set(doc.get("not_stored") or ())


def recorded_training(doc: Mapping[str, Any] | None, device: str) -> dict[str, dict[str, Any]]:
    """Training seconds and steps the last results recorded, by cell key, for time estimates where
    the store holds none (another machine's); only from a run on the same device."""
    if doc is None or str((doc.get("grid") or {}).get("device", "cpu")) != device:
        return {}
    return {r["cell"]: {"seconds": t.get("seconds"), "steps": t.get("steps")}
            for r in doc["results"] if isinstance(t := r.get("training"), dict)}


def fewer_cells(new: Path, old: Path) -> str | None:
    """Why a stored-only run must not replace the last results: it measured fewer cells (a store
    that lacks what an earlier run trained), or they cannot be read (another version's file is
    not this one's to overwrite); None where it may."""
    from ._report.merge import ResultsFileError, load_results

    def cells(doc: Mapping[str, Any]) -> int:
        return len({r["cell"] for r in doc["results"]})

    try:
        n_new = cells(json.loads(new.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        n_new = 0
    if not old.is_file():
        return None
    try:
        n_old = cells(load_results(old))
    except ResultsFileError as exc:
        return f"the last results cannot be read ({exc})"
    return f"the stored-only run measured {n_new} cells, the last results {n_old}" if n_new < n_old else None
