"""Cells -> subjects: load each cell's checkpoint from the store, or train and store it.

One Zoo per session (or notebook). It keeps subjects in memory so each model is
loaded once, and counts what it trained and loaded for the results file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import statistics
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import torch

from ._errors import NotApplicable
from ._families import FAMILIES
from ._grid import Cell, parse_size
from ._resume import ResumeFile, non_negative
from ._store import Store
from ._subject import Counters, Subject
from ._train import Plan, initialize, make_plan, train

#: called with (event, cell, info): "train-start", "train-resumed" (info: the snapshot's step), "train-progress",
#: "trained", "loaded".
Listener = Callable[[str, Cell, Mapping[str, Any]], None]


@dataclass
class ZooStats:
    trained: set[str] = field(default_factory=set)
    loaded: set[str] = field(default_factory=set)
    #: cells whose training went on from a snapshot of an interrupted run: the step it went on from
    resumed: dict[str, int] = field(default_factory=dict)
    counters: Counters = field(default_factory=Counters)

    def to_dict(self) -> dict[str, int]:
        return {
            "cells_trained": len(self.trained),
            "cells_loaded": len(self.loaded - self.trained),
            "forward_passes": self.counters.forward_passes,
        }


def judged(metrics: Mapping[str, Any], task: Any) -> dict[str, Any] | None:
    """A stored cell's metrics judged by the task's accuracy target of today, which the checkpoint key
    does not cover: a cell trained for its whole budget is re-judged from its test accuracy (its
    weights are what training would give now); one whose training stopped early at an older target
    is stale (None: train it again)."""
    out = dict(metrics)
    target = getattr(task, "accuracy_target", None)
    if "target" not in out or out["target"] == target or target is None:
        return out
    if getattr(task, "early_stop", True):
        return None
    acc = out.get("test_accuracy")
    out["reached"] = not out.get("diverged") and isinstance(acc, (int, float)) and acc >= target
    out["target"] = target
    return out


class Zoo:
    def __init__(
        self,
        store: Store,
        device: str = "cpu",
        hparams: Mapping[str, Mapping[str, Any]] | None = None,
        listener: Listener | None = None,
        budget: Mapping[str, int] | None = None,
        sources: Iterable[Any] = (),
        train: bool = True,
        recorded: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.store = store
        #: training metrics (seconds, steps) measured elsewhere, by cell key (a results file's, from
        #: another machine): time estimates fall back on them for cells the store does not hold
        self.recorded = dict(recorded or {})
        #: False in a stored-only run: a cell the store lacks raises NotStored instead of training
        self.train = train
        self.device = device
        self.hparams = {k: dict(v) for k, v in (hparams or {}).items()}
        self.listener = listener
        self.budget = dict(budget or {})
        self.stats = ZooStats()
        self._plans: dict[Cell, Plan] = {}
        self._subjects: dict[Cell, Subject] = {}
        self._tasks: dict[tuple[str, Any], Any] = {}
        #: models the zoo file names (checkpoints.Source), by their cell's `source`
        self.sources = {f"{s.kind}-{s.name}": s for s in sources}

    def plan(self, cell: Cell) -> Plan:
        if cell not in self._plans:
            self._plans[cell] = make_plan(cell, self.hparams.get(cell.optimizer), self.budget)
        return self._plans[cell]

    def unsupported(self, cell: Cell) -> str | None:
        """Why the cell cannot exist (its family cannot take the task's inputs, or its learning
        algorithm cannot learn the task), decided without training."""
        from ._algorithms import ALGORITHMS

        task = self._task(cell)
        if cell.source:
            return self._source(cell).unsupported(task.spec)
        return FAMILIES.get(cell.family).unsupported(task.spec) or ALGORITHMS.get(cell.optimizer).unsupported(task)

    def params(self, cell: Cell) -> int:
        """The cell's actual parameter count, known without training or loading."""
        return self._source(cell).params if cell.source else self.plan(cell).params

    def roles(self, cell: Cell) -> tuple[str, ...]:
        """The site roles the cell's model has, known without training or loading."""
        return tuple(self._source(cell).roles) if cell.source else tuple(FAMILIES.get(cell.family).sites)

    def _source(self, cell: Cell) -> Any:
        try:
            return self.sources[cell.source]
        except KeyError:
            raise ValueError(f"cell {cell.key} names model {cell.source!r}, which this zoo does not list") from None

    def plan_task_spec(self, cell: Cell) -> Any:
        return self._task(cell).spec

    def _task(self, cell: Cell) -> Any:
        """The cell's task, built once per (task, options): building one can generate its data set."""
        from ._tasks import make_task

        key = (cell.task, cell.task_options)
        if key not in self._tasks:
            self._tasks[key] = make_task(cell.task, **dict(cell.task_options))
        return self._tasks[key]

    def needs_training(self, cell: Cell) -> bool:
        """Whether building the cell trains it: a cheap header read, for plans (a corrupt file retrains).
        A checkpoint whose training stopped early at an accuracy target the task no longer has is
        trained again (`judged`), so it is not counted as stored either."""
        if cell.source:
            return False
        plan = self.plan(cell)
        meta = self.store.meta(plan.key)
        return meta is None or judged(meta.get("metrics") or {}, plan.task) is None

    def training_seconds(self, cell: Cell, seeds: int = 5, sizes: Iterable[str] = ()) -> float | None:
        """How long training the cell should take, from stored training times: the median of its
        other seeds, else its Adam twin's (same family, size and task) times the algorithm's
        `relative_cost` (or, for one that runs its whole budget, the twin's seconds per step times
        `step_cost` times the budget), else the same at the nearest other size in `sizes`, scaled by the cube
        root of the size ratio above 10k (docs/performance.md); None where nothing is stored. A cell
        with a snapshot of an interrupted run counts only the steps it has left."""
        full = self._full_training_seconds(cell, seeds, sizes)
        done = self.snapshot_step(cell) if full is not None else None
        if full is None or done is None:
            return full
        steps = self.plan(cell).budget["steps"]
        return full * max(0.0, 1.0 - done / steps)

    def _full_training_seconds(self, cell: Cell, seeds: int, sizes: Iterable[str]) -> float | None:
        direct = self._seconds_here(cell, seeds, skip_own=True)
        if direct is not None or cell.source:
            return direct
        target = parse_size(cell.size)
        others = sorted({s for s in sizes if s != cell.size}, key=lambda s: abs(math.log(parse_size(s) / target)))
        for size in others:
            there = self._seconds_here(dataclasses.replace(cell, size=size), seeds, skip_own=False)
            if there is not None:
                return there * (max(target, 10_000) / max(parse_size(size), 10_000)) ** (1 / 3)
        return None

    def _seconds_here(self, cell: Cell, seeds: int, skip_own: bool) -> float | None:
        from ._algorithms import ALGORITHMS

        own = self._stored_seconds(cell, seeds, skip_own)
        if own or cell.optimizer == "adam" or cell.optimizer not in ALGORITHMS.names():
            return statistics.median(own) if own else None
        algorithm = ALGORITHMS.get(cell.optimizer)
        adam = dataclasses.replace(cell, optimizer="adam")
        if algorithm.step_cost is not None:
            per_step = self._stored_seconds(adam, seeds, skip_own=False, per_step=True)
            if per_step:
                return statistics.median(per_step) * algorithm.step_cost * self.plan(cell).budget["steps"]
        twin = self._stored_seconds(adam, seeds, skip_own=False)
        return statistics.median(twin) * algorithm.relative_cost if twin else None

    def _stored_seconds(self, cell: Cell, seeds: int, skip_own: bool = True, per_step: bool = False) -> list[float]:
        """Stored training seconds of the cell's seeds on this zoo's device (per step taken, if asked
        and the step count is stored), or those `recorded` where the store lacks the seed."""
        times = []
        for seed in range(seeds):
            if skip_own and seed == cell.seed:
                continue
            other = dataclasses.replace(cell, seed=seed)
            meta = self.store.meta(self.plan(other).key)
            if meta is None and other.key in self.recorded:
                meta = {"device": self.device, "metrics": self.recorded[other.key]}
            meta = meta or {}
            if meta.get("device", "cpu") != self.device:  # a GPU's seconds say nothing of a CPU's
                continue
            metrics = meta.get("metrics") or {}
            seconds, steps = metrics.get("seconds"), metrics.get("steps") if per_step else 1
            if non_negative(seconds) and non_negative(steps) and steps > 0:
                times.append(float(seconds) / float(steps))
        return times

    def subject(self, cell: Cell) -> Subject:
        """The trained subject of a cell, from memory, the store, or training."""
        if cell in self._subjects:
            return self._subjects[cell]
        reason = self.unsupported(cell)
        if reason:
            raise NotApplicable(reason)
        if cell.source:
            return self._from_source(cell)
        plan = self.plan(cell)
        # a zoo that trains nothing writes nothing, so it takes no lock: a read-only store serves it
        with self.store.lock(plan.key) if self.train else contextlib.nullcontext():
            ckpt = self.store.load(plan.key)
            metrics = judged(ckpt.meta.get("metrics", {}), plan.task) if ckpt is not None else None
            if metrics is not None and ckpt is not None and "device" in ckpt.meta:
                metrics["device"] = ckpt.meta["device"]  # shown in the results' `training`
            if ckpt is not None and metrics is not None:
                module = initialize(plan)
                module.load_state_dict(ckpt.tensors)
                sha: str | None = ckpt.sha256
                self.stats.loaded.add(cell.key)
                self._emit("loaded", cell, {"metrics": metrics})
            else:
                module, metrics, sha = self._train(plan)
        subject = Subject(
            module, cell, plan.task, params=plan.params, metrics=metrics, checkpoint_sha256=sha,
            device=self.device, counters=self.stats.counters,
            control_factory=lambda: self._control(plan),
            null_factory=lambda kind: self._null(cell),
            sibling_factory=lambda seed: self._sibling(cell, seed),
        )
        self._subjects[cell] = subject
        return subject

    def _train(self, plan: Plan) -> tuple[torch.nn.Module, dict[str, Any], str | None]:
        cell = plan.cell
        if not self.train:
            from ._errors import NotStored

            raise NotStored(f"{cell.key} is not in the store, and a stored-only run trains nothing")
        self._emit("train-start", cell, {"params": plan.params})
        earlier = 0.0  # seconds spent on this cell by interrupted runs

        def progress(info: dict[str, Any]) -> None:
            nonlocal earlier
            if "resumed" in info:
                earlier = float(info["seconds"])
                self.stats.resumed[cell.key] = info["resumed"]
                self._emit("train-resumed", cell, info)
            else:
                self._emit("train-progress", cell, info)

        resume = self._resume_file(plan) if self.store.writable() else None
        start = time.perf_counter()
        module, metrics = train(plan, self.device, progress, resume)
        metrics["seconds"] = round(time.perf_counter() - start + earlier, 3)
        meta: dict[str, Any] = {"plan": plan.describe(), "cell": cell.key, "metrics": metrics}
        if self.device != "cpu":  # weights trained elsewhere differ in the last bits: say where
            meta["device"] = self.device
            metrics = {**metrics, "device": self.device}
        sha: str | None = None
        if self.store.writable():
            sha = self.store.save(plan.key, module.state_dict(), json.loads(json.dumps(meta))).sha256
        else:
            warnings.warn(f"store {self.store.root} is read-only: {cell.key} was trained but not saved", stacklevel=2)
        self.stats.trained.add(cell.key)
        self._emit("trained", cell, {"metrics": metrics})
        return module, metrics, sha

    def _resume_file(self, plan: Plan) -> ResumeFile:
        """The cell's training snapshot: beside its checkpoint, in the store's root."""
        return ResumeFile(self.store.path(plan.key).with_suffix(".resume"), plan.key, device=self.device,
                          label={"cell": plan.cell.key, "steps": plan.budget["steps"]})

    def snapshot_step(self, cell: Cell, written_within_s: float | None = None) -> int | None:
        """The step an interrupted run of the cell left a snapshot at (its next training goes on from it);
        with `written_within_s`, only a snapshot that recent: the cell is training now."""
        if cell.source:
            return None
        return self._resume_file(self.plan(cell)).step(written_within_s)

    def snapshot_position(self, cell: Cell, written_within_s: float | None = None) -> tuple[int, float | None] | None:
        """`snapshot_step` with the seconds the cell has trained so far (None where not recorded)."""
        if cell.source:
            return None
        return self._resume_file(self.plan(cell)).position(written_within_s)

    def _from_source(self, cell: Cell) -> Subject:
        """A model the zoo file names: loaded from its files and evaluated once, never trained or stored."""
        source = self._source(cell)
        module, rules, sha = source.load()
        metrics = source.evaluate(module, self.device)
        self.stats.loaded.add(cell.key)
        self._emit("loaded", cell, {"metrics": metrics})

        def control() -> Subject:
            return Subject(source.control(), cell, source.task, params=source.params, metrics={"control": True},
                           checkpoint_sha256=None, trained=False, device=self.device, counters=self.stats.counters,
                           site_rules=rules)

        def null(kind: str) -> Subject:
            raise NotApplicable(f"{cell.id} was not trained here, so it has no shuffled-label twin")

        def sibling(seed: int) -> Subject:
            raise NotApplicable(f"{cell.id} was not trained here, so it has no sibling at seed {seed}")

        subject = Subject(module, cell, source.task, params=source.params, metrics=metrics, checkpoint_sha256=sha,
                          device=self.device, counters=self.stats.counters, control_factory=control,
                          null_factory=null, sibling_factory=sibling, site_rules=rules)
        self._subjects[cell] = subject
        return subject

    def _null(self, cell: Cell) -> Subject:
        """The shuffled-label twin of a cell: its own key, trained and stored like any cell."""
        from dataclasses import replace

        if dict(cell.task_options).get("shuffle_labels"):
            raise NotApplicable("a shuffled-label model has no further null")
        twin = replace(cell, task_options=tuple(sorted((*cell.task_options, ("shuffle_labels", True)))))
        try:
            return self.subject(twin)
        except ValueError as exc:
            raise NotApplicable(str(exc)) from None

    def _sibling(self, cell: Cell, seed: int) -> Subject:
        """The same cell at another seed: its own key, trained and stored like any cell."""
        from dataclasses import replace

        return self.subject(replace(cell, seed=int(seed)))

    def _control(self, plan: Plan) -> Subject:
        return Subject(
            initialize(plan), plan.cell, plan.task, params=plan.params,
            metrics={"control": True}, checkpoint_sha256=None, trained=False,
            device=self.device, counters=self.stats.counters,
            sibling_factory=lambda seed: self._sibling(plan.cell, seed).control(),
        )

    def _emit(self, event: str, cell: Cell, info: Mapping[str, Any]) -> None:
        if self.listener:
            self.listener(event, cell, info)
