"""Reptile's meta-learned initialization adapts faster than a random one on a held-out parity subset."""

from __future__ import annotations

import copy

import torch
from torch import nn

from pytest_interp._algorithms import ALGORITHMS
from pytest_interp._grid import Cell
from pytest_interp._tasks.base import Task
from pytest_interp._train import evaluate, initialize, make_plan

LIMIT = 200


def steps_to_target(model: nn.Module, task: Task, seed: int, every: int = 5) -> int:
    """Adam (the adaptation stepper reptile binds) until held-out accuracy >= 0.95; LIMIT*2 if never."""
    reptile = ALGORITHMS.get("reptile")
    stepper = reptile.bind(model, reptile.hparams())
    gen = torch.Generator().manual_seed(1_000 + seed)
    for step in range(1, LIMIT + 1):
        batch = task.train_batch(gen, 64)
        stepper.step(lambda: task.loss(model(batch.x), batch.y))
        if step % every == 0 and evaluate(model, task) >= task.accuracy_target:
            return step
    return 2 * LIMIT


def test_meta_learned_init_adapts_faster_on_a_held_out_subset() -> None:
    """Sparse parity (10,2), MLP at 10k, defaults: the target's subset is never a meta-training task.

    Measured (adaptation data orders 0-3): from the meta-learned init 10 steps every time on
    the subsets (3,7) and (0,5); from the random init 15-25. One meta-training (8 s on one
    core) serves three data orders here; the margin asks for a quarter fewer steps.
    """
    reptile = ALGORITHMS.get("reptile")
    plan = make_plan(Cell("mlp", "10k", "reptile", "sparse-parity", 0, (("relevant", (3, 7)),)))
    assert (3, 7) not in [t.config["relevant"] for t in plan.task.related(64)]
    meta = initialize(plan)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        reptile.prepare(meta, plan.task, torch.Generator().manual_seed(5), plan.hparams)
    random_steps = [steps_to_target(initialize(plan), plan.task, s) for s in range(3)]
    meta_steps = [steps_to_target(copy.deepcopy(meta), plan.task, s) for s in range(3)]
    assert sum(meta_steps) <= 0.75 * sum(random_steps), (meta_steps, random_steps)


def test_prepare_is_deterministic_and_moves_the_init() -> None:
    reptile = ALGORITHMS.get("reptile")
    plan = make_plan(Cell("mlp", "1k", "reptile", "sparse-parity", 0), {"meta_iterations": 3, "inner_steps": 2})
    a, b, control = initialize(plan), initialize(plan), initialize(plan)
    for model in (a, b):
        reptile.prepare(model, plan.task, torch.Generator().manual_seed(1), plan.hparams)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(x, y) for x, y in zip(a.parameters(), control.parameters()))


def test_a_task_without_related_tasks_makes_reptile_cells_na_before_training(tmp_path) -> None:
    from pytest_interp._errors import NotApplicable
    from pytest_interp._store import Store
    from pytest_interp._zoo import Zoo

    zoo = Zoo(Store(tmp_path))
    digits = Cell("mlp", "1k", "reptile", "digits", 0)
    assert "offers none" in (zoo.unsupported(digits) or "")
    assert zoo.unsupported(Cell("mlp", "1k", "reptile", "sparse-parity", 0)) is None
    assert zoo.unsupported(Cell("mlp", "1k", "adam", "digits", 0)) is None
    try:
        zoo.subject(digits)
    except NotApplicable:
        pass
    else:
        raise AssertionError("a reptile cell on digits must be n/a")
    assert not any(tmp_path.rglob("*.safetensors"))
