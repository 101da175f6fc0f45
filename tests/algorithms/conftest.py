"""One torch thread for every test here; `slow` tests run only when asked for with `-m slow`.

CI runs `pytest tests/` with no marker expression, and the `slow` marker promises that
its default run leaves those out, so they are skipped here unless `-m` names `slow`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import torch

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("markexpr", "") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if item.get_closest_marker("slow") and HERE in Path(str(item.path)).parents:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
