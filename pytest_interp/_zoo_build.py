"""Build the missing cells of a grid in parallel: local processes, or tasks on a Ray cluster.

Every path calls the same `Zoo.subject` in a fresh worker, which trains on one torch thread
and writes into the same content-addressed store (per-key locks keep two workers off the
same cell), so serial, process and Ray builds give bit-identical checkpoints.
"""

from __future__ import annotations

import json
import math
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ._grid import Cell, GridSpec

EXECUTORS = ("serial", "process", "ray")
Progress = Callable[[int, int, "BuiltCell"], None]
Heartbeat = Callable[[list[str]], None]


@dataclass(frozen=True)
class BuiltCell:
    cell: str
    store_key: str
    sha256: str | None
    trained: bool
    params: int
    metrics: dict[str, Any]
    seconds: float
    #: the step its training went on from, when a snapshot of an interrupted build was found
    resumed_at: int | None = None


def cells_for(grid: GridSpec, tasks: Sequence[str]) -> list[Cell]:
    """The generated cells of a grid: named checkpoints and HF models are loaded, never built."""
    return [c for task in tasks for c in grid.cells(task) if not c.source]


def _build_one(cell: Mapping[str, Any], store_dir: str, hparams: Mapping[str, Any], budget: Mapping[str, int],
               layers: Sequence[str] = (), device: str = "cpu") -> dict[str, Any]:
    """Runs in a worker: load or train one cell. Plain data in and out, so any executor can ship it."""
    from ._errors import NotApplicable
    from ._store import Store
    from ._zoo import Zoo

    start = time.perf_counter()
    c = Cell(**{**cell, "task_options": tuple(tuple(kv) for kv in cell.get("task_options", ()))})
    zoo = Zoo(Store(Path(store_dir), [Path(p) for p in layers]), device, hparams=hparams, budget=budget)
    plan = zoo.plan(c)
    try:
        subject = zoo.subject(c)
    except NotApplicable as exc:
        return {"cell": c.key, "store_key": plan.key, "sha256": None, "trained": False, "params": plan.params,
                "metrics": {"n/a": str(exc)}, "seconds": 0.0}
    return {"cell": c.key, "store_key": plan.key, "sha256": subject.checkpoint_sha256,
            "trained": c.key in zoo.stats.trained, "params": plan.params, "metrics": dict(subject.metrics),
            "seconds": round(time.perf_counter() - start, 3), "resumed_at": zoo.stats.resumed.get(c.key)}


def build(cells: Iterable[Cell], store_dir: Path, *, executor: str = "process", workers: int = 2,
          hparams: Mapping[str, Any] | None = None, budget: Mapping[str, int] | None = None,
          layers: Sequence[Path] = (), progress: Progress | None = None,
          settings: Sequence[tuple[Mapping[str, Any], Mapping[str, int]]] | None = None,
          device: str = "cpu", heartbeat: Heartbeat | None = None, heartbeat_s: float = 600.0) -> list[BuiltCell]:
    """Load or train every cell; returns them in the order given. `settings`, one (hparams, budget)
    per cell, replaces the shared ones: cells of several grids (the findings files) in one build.
    `heartbeat`, every `heartbeat_s` without a finished cell (every executor), gets the
    cells in training and how far each is, so an hours-long cell does not look like a hang."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; use {', '.join(EXECUTORS)}")
    todo = list(cells)
    each = list(settings) if settings is not None else [(hparams or {}, budget or {})] * len(todo)
    if len(each) != len(todo):
        raise ValueError("settings: one (hparams, budget) per cell")
    jobs = [({**asdict(c), "task_options": [list(kv) for kv in c.task_options]}, str(store_dir),
             dict(hp), dict(bud), [str(p) for p in layers], device) for c, (hp, bud) in zip(todo, each)]
    results: dict[int, BuiltCell] = {}
    fresh = _fresh_within(heartbeat_s)

    def beat(indices: Iterable[int]) -> None:
        # executors count a few queued cells as running: only a recently written snapshot says training
        if heartbeat:
            status = [training_status(*jobs[i], written_within_s=fresh) for i in sorted(indices)]
            heartbeat([line for line in status if line is not None])

    def done(i: int, raw: Mapping[str, Any]) -> None:
        results[i] = BuiltCell(**raw)
        if progress:
            progress(len(results), len(todo), results[i])

    if executor == "serial" or workers <= 1:
        for i, raw in _serial_build(jobs, idle=beat if heartbeat else None, idle_s=heartbeat_s):
            done(i, raw)
    elif executor == "process":
        import multiprocessing

        # spawn: a forked torch process can deadlock in its thread pools
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_build_one, *job): i for i, job in enumerate(jobs)}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=heartbeat_s if heartbeat else None,
                                         return_when=FIRST_COMPLETED)
                for fut in sorted(finished, key=futures.__getitem__):
                    done(futures[fut], fut.result())
                if not finished:
                    beat(futures[f] for f in pending if f.running())
    else:
        for i, raw in _ray_build(jobs, workers, idle=beat if heartbeat else None, idle_s=heartbeat_s):
            done(i, raw)
    return [results[i] for i in range(len(todo))]


def _serial_build(jobs: list[tuple[Any, ...]], idle: Callable[[list[int]], None] | None,
                  idle_s: float) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each job in this process, in order; a watcher thread calls `idle` with the job in training
    after every `idle_s` without a finished one (the thread only reads snapshot headers)."""
    current = [0]
    finished = threading.Event()  # set when a job ends: the watcher starts counting again
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            if not finished.wait(idle_s) and not stop.is_set() and idle:
                idle([current[0]])
            finished.clear()

    watcher = threading.Thread(target=watch, name="pytest-interp-heartbeat", daemon=True)
    if idle:
        watcher.start()
    try:
        for i, job in enumerate(jobs):
            current[0] = i
            raw = _build_one(*job)
            finished.set()
            yield i, raw
    finally:
        stop.set()
        finished.set()
        if idle:
            watcher.join()


def _fresh_within(heartbeat_s: float) -> float | None:
    """How recent a snapshot must be to count as a cell in training: two heartbeats or two snapshot
    intervals, whichever is longer; None (any snapshot) where snapshots are off."""
    from ._resume import snapshot_seconds

    every = snapshot_seconds()
    return 2 * max(heartbeat_s, every) if math.isfinite(every) else None


def training_status(cell: Mapping[str, Any], store_dir: str, hparams: Mapping[str, Any], budget: Mapping[str, int],
                    layers: Sequence[str] = (), device: str = "cpu", written_within_s: float | None = None) -> str | None:
    """'<cell> at step N/M, at most about T more' from the cell's training snapshot (read from its
    header), for a heartbeat; None before its first snapshot, or where it is older than
    `written_within_s`. T is the rest of the budget at the pace so far: a cell that reaches its
    target stops sooner."""
    from ._store import Store
    from ._zoo import Zoo

    c = Cell(**{**cell, "task_options": tuple(tuple(kv) for kv in cell.get("task_options", ()))})
    zoo = Zoo(Store(Path(store_dir), [Path(p) for p in layers]), device, hparams=hparams, budget=budget)
    position = zoo.snapshot_position(c, written_within_s)
    if position is None:
        return None
    step, seconds = position
    if step == 0:
        return f"{c.key} preparing (meta-training){f', {duration(seconds)} so far' if seconds else ''}"
    steps = zoo.plan(c).budget["steps"]
    left = f", at most about {duration(seconds / step * (steps - step))} more" if seconds and steps > step else ""
    return f"{c.key} at step {step}/{steps}{left}"


def duration(seconds: float) -> str:
    """'40 s', '25 min', '2.5 h', '7 days': as precise as a pace extrapolated from a snapshot (or a
    snapshot's age) deserves."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h" if seconds < 2 * 86400 else f"{seconds / 86400:.0f} days"


def printed_heartbeat(start: float) -> Heartbeat:
    """'  ... still training: A at step 1200/3000, at most about 25 min more; B ...  (5400s)'; nothing
    before a first snapshot."""
    def heartbeat(status: list[str]) -> None:
        if status:
            print(f"  ... still training: {'; '.join(status)}  ({time.perf_counter() - start:.0f}s)", flush=True)

    return heartbeat


def printed_progress(start: float) -> Progress:
    """One line per cell as it is built: trained, found in the store, or n/a; with the run's time."""
    def progress(i: int, n: int, b: BuiltCell) -> None:
        what = "trained" if b.trained else ("n/a" if b.sha256 is None else "found")
        acc = b.metrics.get("test_accuracy")
        extra = f", test accuracy {acc:.3f}" if isinstance(acc, float) else ""
        if b.resumed_at is not None:
            extra += f", went on from step {b.resumed_at} of an interrupted build"
        print(f"  [{i}/{n}] {b.cell}: {what} in {b.seconds:.1f}s{extra}  ({time.perf_counter() - start:.0f}s)",
              flush=True)

    return progress


def _ray_build(jobs: list[tuple[Any, ...]], workers: int, idle: Callable[[list[int]], None] | None = None,
               idle_s: float = 600.0) -> Iterable[tuple[int, dict[str, Any]]]:
    """(job index, result) as the cluster finishes them; `idle` gets the pending indices each time
    `idle_s` passes without one."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("the ray executor needs Ray: pip install 'pytest-interp[ray]'") from None
    started = False
    if not ray.is_initialized():
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_build_one)
        index = {remote.remote(*job): i for i, job in enumerate(jobs)}
        pending = list(index)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1, timeout=idle_s if idle else None)
            if not ready and idle:
                idle([index[ref] for ref in pending])
            for ref in ready:
                yield index[ref], ray.get(ref)
    finally:
        if started:
            ray.shutdown()


def write_manifest(path: Path, built: Sequence[BuiltCell], cells: Sequence[Cell], note: str) -> None:
    """The prebuilt zoo's manifest: which cell is which file, and the hash of its weights.

    An existing manifest keeps its entries for other cells, so builds can add to one zoo.
    """
    entries = []
    for c, b in sorted(zip(cells, built), key=lambda cb: cb[0].key):
        if b.sha256 is None:
            continue
        entries.append({"cell": c.key, "family": c.family, "size": c.size, "optimizer": c.optimizer,
                        "task": c.task, "task_options": [list(kv) for kv in c.task_options], "seed": c.seed,
                        "store_key": b.store_key, "sha256": b.sha256, "params": b.params})
    if path.is_file():  # a second build into the same prebuilt zoo adds to it (e.g. a second seed)
        old = json.loads(path.read_text(encoding="utf-8"))
        mine = {e["cell"] for e in entries}
        entries = sorted([e for e in old.get("cells", []) if e.get("cell") not in mine] + entries,
                         key=lambda e: str(e["cell"]))
        notes = [n for n in str(old.get("note", "")).split("; ") if n]
        note = "; ".join(notes + ([note] if note not in notes else []))
    doc = {"schema_version": 1, "note": note, "cells": entries}
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
