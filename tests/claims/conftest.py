"""One torch thread for the claim library's CI runs (as tests/families does).

Training already runs on one thread, but measurements run on torch's default; on a shared
2-core machine the probes' small L-BFGS fits were 30-60x slower with two threads than with one.
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
