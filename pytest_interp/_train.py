"""Trains one cell: any family x learning algorithm x task, deterministically.

`plan` resolves a cell into everything that determines its weights; the key hashes
exactly that. `initialize` builds the seeded untrained model (also the control), and
`train` runs the budget in steps, stopping early once the held-out accuracy has met
the task's target at two evaluations in a row.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import torch
from torch import nn

from ._algorithms import ALGORITHMS
from ._families import FAMILIES
from ._grid import Cell
from ._tasks import Task, make_task

if TYPE_CHECKING:
    from ._resume import ResumeFile

#: Bump when a change to training code changes the weights it produces.
TRAINING_CODE_VERSION = 2

Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Plan:
    cell: Cell
    task: Task = field(compare=False)
    family_config: dict[str, Any]
    params: int
    hparams: dict[str, Any]
    budget: dict[str, int]

    def describe(self) -> dict[str, Any]:
        return {
            "family": self.cell.family,
            "family_config": self.family_config,
            "size": self.cell.size,
            "optimizer": self.cell.optimizer,
            "hparams": self.hparams,
            "task": self.task.describe(),
            "seed": self.cell.seed,
            "budget": self.budget,
            "training_code_version": TRAINING_CODE_VERSION,
        }

    @property
    def key(self) -> str:
        blob = json.dumps(self.describe(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


BUDGET_KEYS = ("steps", "batch_size", "eval_every")


def make_plan(cell: Cell, hparams: dict[str, Any] | None = None, budget: dict[str, int] | None = None) -> Plan:
    task = make_task(cell.task, **dict(cell.task_options))
    family = FAMILIES.get(cell.family)
    config, params = family.fit(cell.params_target, task.spec)
    hp = ALGORITHMS.get(cell.optimizer).hparams(hparams)
    return Plan(cell, task, config, params, hp, {**task.budget, **(budget or {})})


def initialize(plan: Plan) -> nn.Module:
    """The seeded untrained model: the same weights every time, so it doubles as the control."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1_000_003 * plan.cell.seed + 12_345)
        model = FAMILIES.get(plan.cell.family).build(plan.family_config, plan.task.spec)
    return model


@torch.no_grad()
def evaluate(model: nn.Module, task: Task, device: str = "cpu") -> float:
    was = model.training
    model.eval()
    test = task.test_set()
    acc = task.accuracy(model(test.x.to(device)), test.y.to(device))
    model.train(was)
    return acc


def train(plan: Plan, device: str = "cpu", progress: Progress | None = None,
          resume: "ResumeFile | None" = None,
          observe: Callable[[nn.Module, float], None] | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """Train one cell on one torch thread (small models are overhead-bound; PILOTS.md).

    With `resume`, training snapshots itself there now and then and starts from a snapshot it
    finds (the weights come out the same as without one); the snapshot is removed at the end.
    `observe` gets the model and its held-out accuracy at every evaluation, the final one included:
    a study watches training through it instead of copying the loop (progress events are plain
    data that cross processes, so they carry no model).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(plan, device, progress, resume, observe)
    finally:
        torch.set_num_threads(threads)


@dataclass
class _Loop:
    """The training loop's own state, snapshotted with the model and the algorithm."""

    step: int = 0
    acc: float = 0.0
    hits: int = 0
    seconds: float = 0.0  # spent by earlier, interrupted runs
    losses: list[float] = field(default_factory=list)  # the last eval_every of them


def _start(plan: Plan, device: str, meta_train: bool,
           snapshots: "_PrepareSnapshots | None" = None) -> tuple[nn.Module, Any, torch.Generator]:
    """The seeded model, its bound algorithm and the data generator, as at step 0.

    Without `meta_train` the algorithm's `prepare` is skipped: a snapshot replaces what it made.
    With `snapshots`, a long `prepare` snapshots itself there, and goes on from its last snapshot."""
    model = initialize(plan).to(device)
    model.train()
    gen = torch.Generator().manual_seed(7_919 * plan.cell.seed + 1)
    algorithm = ALGORITHMS.get(plan.cell.optimizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(plan.cell.seed + 99)
        if meta_train:
            if snapshots is not None:
                snapshots.model = model
                if snapshots.weights is not None:
                    model.load_state_dict(snapshots.weights)
            algorithm.prepare_resumable(model, plan.task, torch.Generator().manual_seed(104_729 * plan.cell.seed + 3),
                                        plan.hparams, snapshots)
        stepper = algorithm.bind(model, plan.hparams)
    return model, stepper, gen


class _PrepareSnapshots:
    """The trainer's side of `PrepareSnapshots`: a snapshot of the model and the algorithm's
    preparation so far, marked (by its "prepare" entry, at step 0) as taken before step 1."""

    def __init__(self, resume: "ResumeFile", tree: Any, began: float) -> None:
        self.resume = resume
        self.began = began  # perf_counter at which this cell's training would have begun, earlier runs included
        self.model: nn.Module | None = None
        prepared = tree.get("prepare") if isinstance(tree, dict) else None
        self.state: Any = prepared["state"] if isinstance(prepared, dict) else None
        self.weights: Any = tree.get("model") if self.state is not None else None

    def due(self) -> bool:
        return self.resume.due()

    def save(self, state: Any) -> None:
        assert self.model is not None
        self.resume.save({"model": dict(self.model.state_dict()), "prepare": {"state": state},
                          "loop": {"step": 0, "seconds": time.perf_counter() - self.began}})


def _prepared_seconds(tree: Any) -> float:
    """The seconds an interrupted preparation had taken, from its snapshot (0 where there is none)."""
    try:
        seconds = float(tree["loop"]["seconds"]) if "prepare" in tree else 0.0
    except (KeyError, TypeError, ValueError):
        return 0.0
    return seconds if math.isfinite(seconds) and seconds >= 0 else 0.0


def _snapshot(model: nn.Module, stepper: Any, gen: torch.Generator, loop: _Loop, every: int) -> Any | None:
    state = stepper.state()
    if state is None:
        return None
    return {"model": dict(model.state_dict()), "stepper": state, "data": gen.get_state(),
            "loop": {"step": loop.step, "acc": loop.acc, "hits": loop.hits, "seconds": loop.seconds,
                     "losses": torch.tensor(loop.losses[-every:], dtype=torch.float64)}}


def _restore(plan: Plan, device: str, tree: Any) -> tuple[nn.Module, Any, torch.Generator, _Loop] | None:
    """The model, algorithm, data generator and loop where the snapshot left them; None if it does not fit."""
    try:
        model, stepper, gen = _start(plan, device, meta_train=False)
        model.load_state_dict(tree["model"])
        stepper.load_state(tree["stepper"])
        gen.set_state(tree["data"])
        saved = tree["loop"]
        loop = _Loop(int(saved["step"]), float(saved["acc"]), int(saved["hits"]), float(saved["seconds"]),
                     [float(x) for x in saved["losses"].tolist()])
    except (KeyError, ValueError, TypeError, RuntimeError, AttributeError, NotImplementedError):
        return None
    if not 0 < loop.step < plan.budget["steps"]:
        return None
    return model, stepper, gen, loop


def _train(plan: Plan, device: str, progress: Progress | None, resume: "ResumeFile | None",
           observe: Callable[[nn.Module, float], None] | None = None) -> tuple[nn.Module, dict[str, Any]]:
    began = time.perf_counter()
    task = plan.task
    steps, batch_size, every = plan.budget["steps"], plan.budget["batch_size"], plan.budget["eval_every"]
    tree = resume.load() if resume else None
    restored = _restore(plan, device, tree) if tree is not None and "prepare" not in tree else None
    if restored is not None:
        model, stepper, gen, loop = restored
        if progress:
            progress({"resumed": loop.step, "steps": steps, "seconds": loop.seconds})
    else:
        snapshots = _PrepareSnapshots(resume, tree, began) if resume else None
        if snapshots is not None and snapshots.state is not None:  # an interrupted preparation: go on
            loop = _Loop(seconds=_prepared_seconds(tree))
            snapshots.began -= loop.seconds
        else:
            loop = _Loop()
            if resume:
                resume.clear()  # none, or one that does not fit: start over
        try:
            model, stepper, gen = _start(plan, device, meta_train=True, snapshots=snapshots)
        except (KeyError, ValueError, TypeError, RuntimeError):
            if snapshots is None or snapshots.state is None:
                raise
            # a preparation snapshot that does not fit (another version's state): prepare from the beginning
            assert resume is not None
            resume.clear()
            loop = _Loop()
            snapshots = _PrepareSnapshots(resume, None, began)
            model, stepper, gen = _start(plan, device, meta_train=True, snapshots=snapshots)
    start = began - loop.seconds  # seconds count every run of this cell, meta-training included
    losses, acc, hits, diverged, step = loop.losses, loop.acc, loop.hits, False, loop.step
    for step in range(loop.step + 1, steps + 1):
        batch = task.train_batch(gen, batch_size)
        x, y = batch.x.to(device), batch.y.to(device)
        loss = stepper.step(lambda: task.loss(model(x), y))
        if not math.isfinite(loss):
            diverged = True
            break
        losses.append(loss)
        if step % every == 0 or step == steps:
            acc = evaluate(model, task, device)
            if observe:
                observe(model, acc)
            hits = hits + 1 if acc >= task.accuracy_target else 0
            if progress:
                progress({"step": step, "steps": steps, "loss": sum(losses[-every:]) / len(losses[-every:]),
                          "accuracy": acc, "elapsed": time.perf_counter() - start})
            if hits >= 2 and task.early_stop:
                break
        if resume and step < steps and resume.due():
            del losses[:-every]
            tree = _snapshot(model, stepper, gen, _Loop(step, acc, hits, time.perf_counter() - start, losses), every)
            if tree is not None:
                resume.save(tree)
    if not diverged and any(not torch.isfinite(p).all() for p in model.parameters()):
        diverged = True
    if not diverged:
        acc = evaluate(model, task, device)
        if observe:
            observe(model, acc)
    tail = losses[-every:] or [float("nan")]
    metrics = {
        "steps": step,
        "train_loss": round(sum(tail) / len(tail), 6) if not diverged else None,
        "test_accuracy": round(acc, 6) if not diverged else None,
        "target": task.accuracy_target,
        "reached": (not diverged) and acc >= task.accuracy_target,
        "diverged": diverged,
    }
    if resume:
        resume.clear()
    return model.cpu(), metrics
