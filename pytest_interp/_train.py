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
from typing import Any, Callable

import torch
from torch import nn

from ._algorithms import ALGORITHMS
from ._families import FAMILIES
from ._grid import Cell
from ._tasks import Task, make_task

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


def train(plan: Plan, device: str = "cpu", progress: Progress | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """Train one cell on one torch thread (small models are overhead-bound; PILOTS.md)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(plan, device, progress)
    finally:
        torch.set_num_threads(threads)


def _train(plan: Plan, device: str, progress: Progress | None) -> tuple[nn.Module, dict[str, Any]]:
    model = initialize(plan).to(device)
    model.train()
    task = plan.task
    steps, batch_size, every = plan.budget["steps"], plan.budget["batch_size"], plan.budget["eval_every"]
    gen = torch.Generator().manual_seed(7_919 * plan.cell.seed + 1)
    algorithm = ALGORITHMS.get(plan.cell.optimizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(plan.cell.seed + 99)
        algorithm.prepare(model, task, torch.Generator().manual_seed(104_729 * plan.cell.seed + 3), plan.hparams)
        stepper = algorithm.bind(model, plan.hparams)
    start = time.perf_counter()
    losses: list[float] = []
    acc, hits, diverged, step = 0.0, 0, False, 0
    for step in range(1, steps + 1):
        batch = task.train_batch(gen, batch_size)
        x, y = batch.x.to(device), batch.y.to(device)
        loss = stepper.step(lambda: task.loss(model(x), y))
        if not math.isfinite(loss):
            diverged = True
            break
        losses.append(loss)
        if step % every == 0 or step == steps:
            acc = evaluate(model, task, device)
            hits = hits + 1 if acc >= task.accuracy_target else 0
            if progress:
                progress({"step": step, "steps": steps, "loss": sum(losses[-every:]) / len(losses[-every:]),
                          "accuracy": acc, "elapsed": time.perf_counter() - start})
            if hits >= 2 and task.early_stop:
                break
    if not diverged and any(not torch.isfinite(p).all() for p in model.parameters()):
        diverged = True
    if not diverged:
        acc = evaluate(model, task, device)
    tail = losses[-every:] or [float("nan")]
    metrics = {
        "steps": step,
        "train_loss": round(sum(tail) / len(tail), 6) if not diverged else None,
        "test_accuracy": round(acc, 6) if not diverged else None,
        "target": task.accuracy_target,
        "reached": (not diverged) and acc >= task.accuracy_target,
        "diverged": diverged,
    }
    return model.cpu(), metrics
