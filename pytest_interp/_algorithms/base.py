"""What every learning algorithm offers the trainer: defaults and a step on a loss closure.

The trainer hands an algorithm a closure that recomputes the loss on the current batch;
gradient methods backpropagate it, L-BFGS calls it repeatedly, gradient-free methods
evaluate it under perturbations. One interface serves them all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Protocol, Sequence

import torch
from torch import nn

if TYPE_CHECKING:
    from .._tasks.base import Task

LossFn = Callable[[], torch.Tensor]


class Stepper(ABC):
    """One learning algorithm bound to one model's parameters."""

    @abstractmethod
    def step(self, loss_fn: LossFn) -> float:
        """Update the parameters once; return the loss before the update."""

    def state(self) -> Any:
        """What the next steps read besides the model's tensors (optimizer state, generators), for a
        training snapshot (`_resume`): tensors in nested dicts, lists and tuples. None: this
        algorithm cannot be snapshotted, and an interrupted cell starts again from step 0."""
        return None

    def load_state(self, state: Any) -> None:
        """Restore what `state` returned; raise KeyError, ValueError or TypeError if it does not fit."""
        raise NotImplementedError


class PrepareSnapshots(Protocol):
    """Where a long `prepare` (meta-training) saves its progress, so an interrupted cell goes on
    from there; the trainer saves the model's weights with it."""

    #: what the last snapshot's `save` got, or None: prepare from the beginning
    state: Any

    def due(self) -> bool:
        """Whether a snapshot is due (about once a minute)."""
        ...

    def save(self, state: Any) -> None:
        """Snapshot the model as it is now with `state` (tensors in nested dicts, lists, tuples)."""
        ...


class Algorithm(ABC):
    """A named learning algorithm with documented default hyperparameters."""

    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]]
    #: a cell's training time relative to Adam's on the same cell (medians over the findings grid),
    #: so that parallel runs start the costliest cells first instead of ending on one of them
    relative_cost: ClassVar[float] = 1.0
    #: for an algorithm that runs its whole budget whatever Adam needed (ES): its seconds per step
    #: relative to Adam's, so a time estimate scales the Adam twin's seconds per step by the
    #: cell's budget rather than Adam's early-stopped total by `relative_cost`; None: use that
    step_cost: ClassVar[float | None] = None

    def hparams(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(self.defaults)
        if unknown:
            raise ValueError(f"{self.name} has no hyperparameter(s) {', '.join(sorted(unknown))}")
        return {**self.defaults, **overrides}

    @abstractmethod
    def bind(self, model: nn.Module, hparams: dict[str, Any]) -> Stepper: ...

    def prepare(self, model: nn.Module, task: "Task", generator: torch.Generator, hparams: dict[str, Any]) -> None:
        """Change the initialization before training on `task` (meta-learning does); default: nothing."""

    def prepare_resumable(self, model: nn.Module, task: "Task", generator: torch.Generator,
                          hparams: dict[str, Any], snapshots: PrepareSnapshots | None) -> None:
        """`prepare`, for one long enough to snapshot: it may save its progress through `snapshots`
        and go on from `snapshots.state` (the model's weights are restored already). The result must
        be bit-identical to an uninterrupted `prepare`; default: `prepare`, never snapshotted."""
        self.prepare(model, task, generator, hparams)

    def unsupported(self, task: "Task") -> str | None:
        """Why this algorithm cannot learn `task` at all (the cell is then `n/a`, never trained); default: None."""
        return None


class TorchOptimizerStepper(Stepper):
    """Backpropagate, clip the gradient norm, step one torch optimizer or several.

    Several, because some algorithms split the parameters (Muon for hidden matrices,
    AdamW for the rest); the clip applies to the gradient of all of them together.
    """

    def __init__(
        self, model: nn.Module, optimizer: torch.optim.Optimizer | Sequence[torch.optim.Optimizer],
        clip: float | None,
    ) -> None:
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizers = [optimizer] if isinstance(optimizer, torch.optim.Optimizer) else list(optimizer)
        self.optimizer = self.optimizers[0]
        self.clip = clip

    def step(self, loss_fn: LossFn) -> float:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        if self.clip:
            torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        for opt in self.optimizers:
            opt.step()
        return float(loss.detach())

    def state(self) -> Any:
        return {"optimizers": [opt.state_dict() for opt in self.optimizers]}

    def load_state(self, state: Any) -> None:
        if len(state["optimizers"]) != len(self.optimizers):
            raise ValueError("the snapshot has another number of optimizers")
        for opt, saved in zip(self.optimizers, state["optimizers"]):
            opt.load_state_dict(saved)
