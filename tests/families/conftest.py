"""One torch thread per family test: these models are tiny, and on a shared 2-core machine
thread synchronisation, not arithmetic, dominated (a 10x slowdown under load)."""

from __future__ import annotations

from typing import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
