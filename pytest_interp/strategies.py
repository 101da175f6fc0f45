"""Hypothesis strategies for every task's inputs and for perturbations of them.

Worst-case claims ("for every input of the task, ...") use them with `@given`; Hypothesis
then searches for a counterexample and shrinks it (toward zero tokens, zero pixels, fewer
changed positions). Inputs come as tensors without a batch dimension, shaped like one row
of `task.test_set().x`; run the model on `x.unsqueeze(0)`.

Requires the `hypothesis` package (the `test` extra).
"""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st

from ._tasks import Task, make_task

SearchStrategy = st.SearchStrategy


def _task(task: Task | str, options: dict[str, Any]) -> Task:
    return make_task(task, **options) if isinstance(task, str) else task


def inputs(task: Task | str, **options: Any) -> SearchStrategy[torch.Tensor]:
    """Any valid input of the task (one example, no batch dimension)."""
    t = _task(task, options)
    spec = t.spec
    if t.name == "modular-addition":
        p = t.config["p"]
        return st.tuples(st.integers(0, p - 1), st.integers(0, p - 1)).map(
            lambda ab: torch.tensor([ab[0], ab[1], p], dtype=torch.long))
    if t.name == "repeated-tokens":
        return repeated_sequences(t)
    if spec.modality == "tokens":
        return st.lists(st.integers(0, spec.vocab - 1), min_size=spec.shape[0], max_size=spec.shape[0]).map(
            lambda xs: torch.tensor(xs, dtype=torch.long))
    if t.name == "superposition":
        n, s = t.config["n"], float(t.config["sparsity"])
        feature = st.one_of(st.just(0.0), st.floats(0.0, 1.0)) if s > 0 else st.floats(0.0, 1.0)
        return st.lists(feature, min_size=n, max_size=n).map(lambda xs: torch.tensor(xs, dtype=torch.float32))
    size = 1
    for d in spec.shape:
        size *= d
    return st.lists(st.floats(0.0, 1.0), min_size=size, max_size=size).map(
        lambda xs: torch.tensor(xs, dtype=torch.float32).reshape(spec.shape))


def repeated_sequences(task: Task | str, **options: Any) -> SearchStrategy[torch.Tensor]:
    """Sequences [noise, A, A, noise] of the repeated-tokens task: copying is always possible."""
    t = _task(task, options)
    c = t.config

    @st.composite
    def build(draw: Any) -> torch.Tensor:
        seg = draw(st.integers(c["min_segment"], c["max_segment"]))
        start = draw(st.integers(0, c["length"] - 2 * seg))
        tokens = draw(st.lists(st.integers(0, c["vocab"] - 1), min_size=c["length"], max_size=c["length"]))
        x = torch.tensor(tokens, dtype=torch.long)
        x[start + seg: start + 2 * seg] = x[start: start + seg]
        return x

    return build()


def held_out_examples(task: Task | str, **options: Any) -> SearchStrategy[torch.Tensor]:
    """One input of the task's held-out set (for real-data tasks such as digits and char-text)."""
    t = _task(task, options)
    x = t.test_set().x
    return st.integers(0, len(x) - 1).map(lambda i: x[i].clone())


def perturbations(x: torch.Tensor, task: Task | str, *, max_changes: int = 2, epsilon: float = 0.1,
                  **options: Any) -> SearchStrategy[torch.Tensor]:
    """Inputs near `x`: up to `max_changes` tokens replaced, or each value moved by at most `epsilon`.

    Shrinking moves toward `x` itself (no change), so a counterexample is the smallest change found.
    """
    t = _task(task, options)
    spec = t.spec
    if spec.modality == "tokens":
        positions = st.integers(0, x.shape[0] - 1)
        change = st.tuples(positions, st.integers(0, spec.vocab - 1))

        def apply(changes: list[tuple[int, int]]) -> torch.Tensor:
            out = x.clone()
            for pos, tok in changes:
                out[pos] = tok
            return out

        return st.lists(change, max_size=max_changes).map(apply)
    if epsilon <= 0:
        raise ValueError("epsilon must be positive")
    flat = x.reshape(-1)
    deltas = st.lists(st.floats(-epsilon, epsilon), min_size=flat.numel(), max_size=flat.numel())
    lo, hi = (0.0, 1.0) if spec.modality == "images" or t.name == "superposition" else (-float("inf"), float("inf"))
    return deltas.map(lambda d: (flat + torch.tensor(d, dtype=flat.dtype)).clamp(lo, hi).reshape(x.shape))
