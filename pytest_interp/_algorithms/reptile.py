"""`reptile`: first-order meta-learning of the initialization (Nichol, Achiam & Schulman 2018).

`prepare` meta-trains the initialization over sibling tasks (`task.related`; for sparse
parity, other relevant-bit subsets, never the target's): each meta-iteration copies the
current initialization, adapts the copy for `inner_steps` Adam steps on one sampled
sibling, and moves the initialization toward the adapted weights by `meta_lr`, annealed
linearly to 0 (the paper's schedule). `bind` then returns plain Adam (the `adam` defaults)
to adapt on the target task within the ordinary budget; meta-training is not counted in it.

Defaults and why (measured on sparse parity, MLP at 10k parameters, steps to 0.95 held-out
accuracy on the held-out subset, evaluated every 5 steps, 4 subsets x 2 seeds):
- meta_tasks 64: all 44 siblings at (10,2), 64 of 219 at (12,3). Few tasks hurt: with 16
  of 219 at (12,3) the init adapted slower than a random one (median 57.5 vs 42.5 steps).
- inner_steps 30: enough Adam steps to nearly solve a sibling (a random init needs ~20 at
  (10,2)); with 5-10 inner steps Reptile is close to joint training and gave no benefit
  (median 42.5-80 vs 42.5 at (12,3)); 50 was better still at (12,3) (25 vs 47.5).
- meta_iterations 150: 4500 inner steps, 3x the task budget (~5 s for the MLP, ~40 s for
  the transformer on one core); measured median 10 steps vs 20 from random init at (10,2).
- meta_lr 0.1 annealed linearly to 0: 0.3 or 1.0 dragged the init onto the last tasks
  sampled and adapted slower than random.
- inner_lr 3e-3 (Adam, betas 0.9/0.999), a fresh Adam per meta-iteration (state carried
  across tasks points momentum at the previous task; beta1 = 0 was worse), batch 64 like
  the task's.
- Adaptation on the target: the `adam` defaults (lr 3e-3, clip 1).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .base import Algorithm, PrepareSnapshots, Stepper, TorchOptimizerStepper

if TYPE_CHECKING:
    from .._tasks.base import Task


class Reptile(Algorithm):
    name = "reptile"
    relative_cost = 25.0  # meta-training before the target task
    defaults = {
        "meta_tasks": 64, "meta_iterations": 150, "inner_steps": 30, "inner_lr": 3e-3, "inner_beta1": 0.9,
        "inner_batch": 64, "meta_lr": 0.1, "lr": 3e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "clip": 1.0,
    }

    def unsupported(self, task: "Task") -> str | None:
        if not task.related(1):
            return f"reptile meta-learns from related tasks, and task {task.name!r} offers none"
        return None

    def prepare(self, model: nn.Module, task: "Task", generator: torch.Generator, hparams: dict[str, Any]) -> None:
        self.prepare_resumable(model, task, generator, hparams, None)

    def prepare_resumable(self, model: nn.Module, task: "Task", generator: torch.Generator,
                          hparams: dict[str, Any], snapshots: PrepareSnapshots | None) -> None:
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        siblings = task.related(int(hparams["meta_tasks"]), seed=seed)
        if not siblings:
            raise ValueError(
                f"reptile: task {task.name!r} offers no related tasks to meta-learn from "
                "(Task.related returned none); use another learning algorithm for it"
            )
        meta_train(model, siblings, generator, hparams, snapshots)

    def bind(self, model: nn.Module, hparams: dict[str, Any]) -> Stepper:
        opt = torch.optim.Adam(
            model.parameters(), lr=hparams["lr"], betas=(hparams["beta1"], hparams["beta2"]), eps=hparams["eps"],
        )
        return TorchOptimizerStepper(model, opt, hparams["clip"])


def meta_train(model: nn.Module, tasks: list["Task"], generator: torch.Generator, hparams: dict[str, Any],
               snapshots: PrepareSnapshots | None = None) -> None:
    """Reptile's outer loop, in place on `model`; stops early if adaptation goes non-finite. With
    `snapshots`, it saves (iteration, generator) now and then and goes on from a saved one: the
    initialization so far is the model itself, and each iteration starts a fresh inner Adam."""
    iterations = int(hparams["meta_iterations"])
    first = 0
    if snapshots is not None and snapshots.state is not None:
        first = int(snapshots.state["iteration"])
        if not 0 < first < iterations:
            raise ValueError("the snapshot's meta-iteration is outside this budget")
        generator.set_state(snapshots.state["generator"])
    learner = copy.deepcopy(model)
    init, adapted = list(model.parameters()), list(learner.parameters())
    device = init[0].device
    for it in range(first, iterations):
        task = tasks[int(torch.randint(len(tasks), (1,), generator=generator))]
        with torch.no_grad():
            for a, p in zip(adapted, init):
                a.copy_(p)
        opt = torch.optim.Adam(adapted, lr=hparams["inner_lr"], betas=(hparams["inner_beta1"], 0.999))
        stepper = TorchOptimizerStepper(learner, opt, hparams["clip"])
        for _ in range(int(hparams["inner_steps"])):
            batch = task.train_batch(generator, int(hparams["inner_batch"]))
            x, y = batch.x.to(device), batch.y.to(device)
            stepper.step(lambda: task.loss(learner(x), y))
        if not all(bool(torch.isfinite(a).all()) for a in adapted):
            return
        step = float(hparams["meta_lr"]) * (1.0 - it / iterations)
        with torch.no_grad():
            for a, p in zip(adapted, init):
                p.add_(a - p, alpha=step)
        if snapshots is not None and it + 1 < iterations and snapshots.due():
            snapshots.save({"iteration": it + 1, "generator": generator.get_state()})
