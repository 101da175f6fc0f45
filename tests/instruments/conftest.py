"""Shared fixtures: real (untrained) models of our families, built without training."""

from __future__ import annotations

from typing import Iterator

import pytest
import torch

from pytest_interp._subject import Subject

from .helpers import make_subject


@pytest.fixture(scope="package")
def transformer() -> Subject:
    """d=20, 2 blocks, 2 heads, 10 token positions, 2 classes."""
    return make_subject("transformer", "10k")


@pytest.fixture(scope="package")
def mlp() -> Subject:
    return make_subject("mlp", "1k")


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Small models are overhead-bound; one thread is faster and leaves the other core free."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="package")
def attn_only() -> Subject:
    """Attention-only, 2 blocks, per-position logits over a 64-token vocabulary (repeated tokens)."""
    return make_subject("attn-only", "10k", task="repeated-tokens")
