"""Helpers shared by the gradient-based instruments: a clean measuring state for a model."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

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
