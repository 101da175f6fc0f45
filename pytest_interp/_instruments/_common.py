"""Helpers shared by the instruments that run a model: a clean measuring state, and inputs that
follow the model to its device."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import torch
from torch import nn


@contextmanager
def measuring(model: object) -> Iterator[None]:
    """Eval mode, parameters frozen, cuDNN off for recurrent models; every flag restored on exit.

    Why: attributions must not depend on dropout or batch statistics (eval mode); gradients
    are needed w.r.t. inputs only, so frozen parameters save the forward pass from keeping
    what weight gradients need; cuDNN's RNN backward refuses eval mode, so it is disabled
    while a module with recurrent layers is measured. The model is never put in training mode:
    flags are restored by assignment, not by `train()`.
    """
    if not isinstance(model, nn.Module):
        yield
        return
    modes = [(m, m.training) for m in model.modules()]
    grads = [(p, p.requires_grad) for p in model.parameters()]
    recurrent = any(isinstance(m, nn.RNNBase) for m in model.modules())
    cudnn = torch.backends.cudnn.enabled
    model.eval()
    for p, _ in grads:
        p.requires_grad_(False)
    if recurrent:
        torch.backends.cudnn.enabled = False  # only this flag: benchmark/deterministic stay the user's
    try:
        yield
    finally:
        torch.backends.cudnn.enabled = cudnn
        for m, mode in modes:
            m.training = mode
        for p, flag in grads:
            p.requires_grad_(flag)


def module_device(model: object) -> torch.device | None:
    """Where a module's first parameter (or buffer) lies; None for a plain callable or an empty module."""
    if not isinstance(model, nn.Module):
        return None
    first: torch.Tensor | None = next(model.parameters(), None)
    if first is None:
        first = next(model.buffers(), None)
    return None if first is None else first.device


def following(model: Callable[[torch.Tensor], Any], device_of: object = None) -> Callable[[torch.Tensor], Any]:
    """`model` as a function whose inputs move to the model's device (that of `device_of` for a
    function of a module's parts) and whose outputs come back to the inputs' device: a claim
    written with CPU tensors measures a model on `--interp-device` unchanged. Gradients flow
    through both moves."""
    device = module_device(model if device_of is None else device_of)
    if device is None:
        return model

    def call(x: torch.Tensor) -> Any:
        out = model(x.to(device))
        return out.to(x.device) if isinstance(out, torch.Tensor) else out

    return call
