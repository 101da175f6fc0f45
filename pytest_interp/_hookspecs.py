"""The hook a conftest.py implements to extend pytest-interp (the entry-point form is documented in extend.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_interp_register(registrar: Any) -> None:
    """Register families, learning algorithms, tasks or instruments for this run.

    `registrar` is a `pytest_interp._extend.Registrar`; what a conftest registers is removed
    again when the run ends.
    """
