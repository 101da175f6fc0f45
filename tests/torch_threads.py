"""One torch thread per test, for folders of tiny models: import the fixture into a folder's conftest.

Training already runs on one thread, but measurements run on torch's default; on a shared 2-core
machine thread synchronisation, not arithmetic, dominated (family tests 10x slower under load, the
probes' small L-BFGS fits 30-60x slower with two threads than with one).
"""

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
