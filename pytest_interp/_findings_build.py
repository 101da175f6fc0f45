"""What a findings build trains, in which order, and what fits a time box: the cells the claim
files' grids need that neither the store holds nor the last results measured."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence


class Missing(NamedTuple):
    """What a build trains, in order: per cell (cost, cell, (hparams, budget)), its estimated
    CPU-seconds (None where nothing stored or recorded says) and the file it is trained for (the
    first in the build's order that needs it); and how many cells go on from a snapshot."""

    order: list[tuple[float, Any, tuple[Any, Any]]]
    seconds: list[float | None]
    files: list[str]
    going_on: int


def missing_cells(chosen: list[Any], sizes: list[str] | None, optimizers: list[str], seeds: int,
                  store_dir: Path, device: str = "cpu", file_by_file: bool = False,
                  last: Sequence[Mapping[str, Any] | None] = ()) -> Missing:
    """The cells the files' grids still need, cheapest first, once each (files share cells); a cell
    that goes on from the snapshot an interrupted build on `device` left counts what is left (one
    on another device would not resume). `file_by_file`: cells that go on from a snapshot first, then file after file,
    the one with the fewest estimated CPU-seconds left first (a shared cell goes with the first file
    that needs it), cheapest first within each, so files complete one by one. `last`, per file: its
    last results, whose measured cells it does not need again and whose training times estimate
    where the store has none."""
    from ._cell_plan import claim_cells
    from ._findings_results import measured_cells, recorded_training
    from ._findings_spec import zoo_toml
    from ._grid import load_zoo
    from ._session import prebuilt_layers
    from ._store import Store
    from ._xdist import cell_cost
    from ._zoo import Zoo

    todo: dict[str, tuple[float, Any, Any]] = {}  # by checkpoint key
    files_of: dict[str, set[int]] = {}  # the chosen files whose grids need the cell, by checkpoint key
    left = [0.0] * len(chosen)  # each file's estimated seconds to train, counting shared cells in each
    going_on = 0
    known: dict[str, float | None] = {}  # each missing cell's estimate, from the first file that needs it
    with tempfile.TemporaryDirectory(prefix="interp-build-") as tmp:
        for index, finding in enumerate(chosen):
            toml = Path(tmp) / f"{finding.stem}.zoo.toml"
            toml.write_text(zoo_toml(finding, sizes, optimizers, seeds), encoding="utf-8")
            grid = load_zoo(toml)
            doc = last[index] if index < len(last) else None
            zoo = Zoo(Store(store_dir, prebuilt_layers()), hparams=grid.hparams, budget=grid.budget,
                      recorded=recorded_training(doc, "cpu"))
            on_device = zoo if device == "cpu" else Zoo(zoo.store, device, hparams=grid.hparams, budget=grid.budget)
            for cell in claim_cells(grid, [finding.path], skip=measured_cells(doc)):
                if zoo.unsupported(cell) or not zoo.needs_training(cell):
                    continue
                plan = zoo.plan(cell)
                first = plan.key not in todo
                seconds = zoo.training_seconds(cell, sizes=grid.sizes) if first or file_by_file else None
                files_of.setdefault(plan.key, set()).add(index)
                if file_by_file:
                    left[index] += seconds if seconds is not None else _UNKNOWN_SECONDS
                if first:
                    done = on_device.snapshot_step(cell) or 0  # a cell an interrupted build left half-way costs half
                    going_on += done > 0
                    cost = cell_cost(cell) * (1 - done / plan.budget["steps"])
                    todo[plan.key] = (cost, cell, (plan.hparams, plan.budget))
                    known[plan.key] = seconds
    if not file_by_file:
        keys = sorted(todo, key=lambda k: (todo[k][0], todo[k][1]))
        return Missing([todo[k] for k in keys], [known[k] for k in keys],
                       [chosen[min(files_of[k])].stem for k in keys], going_on)
    rank = {index: r for r, index in enumerate(sorted(range(len(chosen)), key=lambda i: (left[i], i)))}
    full = {key: cell_cost(cell) for key, (_, cell, _) in todo.items()}

    def first_file(key: str) -> int:
        return min(files_of[key], key=rank.__getitem__)

    def group(key: str) -> int:
        return -1 if todo[key][0] < full[key] else rank[first_file(key)]

    keys = sorted(todo, key=lambda k: (group(k), todo[k][0], todo[k][1]))
    return Missing([todo[k] for k in keys], [known[k] for k in keys],
                   [chosen[first_file(k)].stem for k in keys], going_on)


_UNKNOWN_SECONDS = 3600.0  # a cell nothing stored says anything about counts an hour in `file_by_file`'s ranking


def build_missing(args: argparse.Namespace, chosen: list[Any], sizes: list[str] | None, optimizers: list[str],
           seeds: int) -> int:
    """Train what the files' grids still need, cheapest first across all files: a long study's page
    (`--stored-only`) then fills in from the cheap cells while the costly ones train."""
    from ._findings_results import last_results, measured_cells
    from ._session import prebuilt_layers
    from ._store import default_store_dir
    from ._zoo_build import build, printed_heartbeat, printed_progress

    store_dir = args.store or default_store_dir()
    device = args.device or "cpu"
    results_dir = args.results or args.out.with_suffix("")
    last = [last_results(results_dir, f.stem) for f in chosen]
    order, known, files, going_on = missing_cells(chosen, sizes, optimizers, seeds, Path(store_dir), device,
                                                  file_by_file=args.file_by_file, last=last)
    estimated = [s for s in known if s is not None]
    hours = (f", about {sum(estimated) / 3600:.1f} CPU-hours for the {len(estimated)} with training times to go by"
             if estimated else "")
    resumed = f" ({going_on} go on from where an interrupted build stopped)" if going_on else ""
    how = "file by file, the file with the least left first" if args.file_by_file else "cheapest first"
    measured_before = any(measured_cells(d) for d in last)
    skipped = f"; cells the results in {results_dir} measured are not trained again" if measured_before else ""
    print(f"pytest-interp findings: {len(order)} cells to train{resumed} for {len(chosen)} file(s), {how}"
          f"{hours}{skipped}; nothing is measured (`--stored-only` shows the page so far)", flush=True)
    if args.hours is not None and order:
        keep = within([s if s is not None else _UNKNOWN_SECONDS for s in known], args.hours * 3600, args.workers)
        fit = sum(known[i] or _UNKNOWN_SECONDS for i in keep) / 3600
        print(f"pytest-interp findings: --hours {args.hours:g}: {len(keep)} of {len(order)} cells should finish "
              f"in time on {args.workers} worker(s) (about {fit:.1f} CPU-hours); {len(order) - len(keep)} are "
              f"left for a later build{_by_file(files, keep)}", flush=True)
        if device != "cpu":  # the estimates come from CPU training times: nothing records a GPU's yet
            print(f"pytest-interp findings: --hours goes by CPU training times; on {device} the cells likely "
                  f"finish sooner, so it keeps fewer than would fit", flush=True)
        order = [order[i] for i in keep]
    if not order:
        return 0
    start = time.perf_counter()

    # the hparams in a plan are complete, so a cell's key is the same whatever the file's overrides were
    built = build([c for _, c, _ in order], Path(store_dir), executor=args.executor, workers=args.workers,
                  layers=prebuilt_layers(), settings=[({c.optimizer: hp}, bud) for _, c, (hp, bud) in order],
                  progress=printed_progress(start), heartbeat=printed_heartbeat(start), device=device)
    print(f"pytest-interp findings: {sum(b.trained for b in built)} trained in {time.perf_counter() - start:.0f}s")
    return 0


def by_optimizer(cells: Sequence[Any], seconds: Sequence[float | None]) -> str:
    """Cells and estimated CPU-hours per learning algorithm, most hours first: where a study's time goes."""
    count: dict[str, int] = {}
    hours: dict[str, float] = {}
    unknown: set[str] = set()  # with cells nothing estimates: their hours are a lower bound
    for cell, s in zip(cells, seconds):
        count[cell.optimizer] = count.get(cell.optimizer, 0) + 1
        hours[cell.optimizer] = hours.get(cell.optimizer, 0.0) + (s or 0.0) / 3600
        if s is None:
            unknown.add(cell.optimizer)
    return ", ".join(f"{o} {count[o]} ({'at least ' if o in unknown else ''}{hours[o]:.1f} h)"
                     for o in sorted(count, key=lambda o: (-hours[o], o)))


def _by_file(files: list[str], keep: list[int]) -> str:
    """Per file, how many of its cells the time box keeps (where more than one file has cells)."""
    stems = list(dict.fromkeys(files))
    if len(stems) < 2:
        return ""
    kept = [files[i] for i in keep]
    return " (" + ", ".join(f"{s} {kept.count(s)} of {files.count(s)}" for s in stems) + ")"


def within(seconds: Sequence[float], limit: float, workers: int) -> list[int]:
    """Which cells, in order, `workers` finish within `limit` seconds by their estimates, each started
    on the first free worker as the executor does; a cell that would end too late is skipped and a
    later, shorter one may take its place."""
    free = [0.0] * max(1, workers)
    keep = []
    for i, need in enumerate(seconds):
        w = min(range(len(free)), key=free.__getitem__)
        if free[w] + need <= limit:
            free[w] += need
            keep.append(i)
    return keep
