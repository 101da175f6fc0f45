"""Shared fixtures: one checkpoint store for the whole test session, so cells train once."""

from __future__ import annotations

from pathlib import Path

import pytest


def _warm_up_torch() -> None:
    """Import what torch imports lazily on first use (torch.optim pulls in torch._dynamo).

    In-process pytester runs restore sys.modules afterwards; a lazily imported torch
    module would then register its operator library twice on the next run and fail.
    """
    import importlib
    import pkgutil

    import torch

    import pytest_interp
    from pytest_interp._instruments import logistic_probe

    for mod in pkgutil.walk_packages(pytest_interp.__path__, "pytest_interp."):
        importlib.import_module(mod.name)

    p = torch.zeros(2, requires_grad=True)
    for opt in (torch.optim.SGD([p], lr=0.1, momentum=0.9), torch.optim.Adam([p]), torch.optim.AdamW([p])):
        p.sum().backward()
        opt.step()
    logistic_probe(torch.randn(20, 3), torch.arange(20) % 2)


_warm_up_torch()


@pytest.fixture(autouse=True)
def no_prebuilt_zoo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests count what they train: keep the shipped prebuilt zoo out unless a test asks for it."""
    monkeypatch.setenv("PYTEST_INTERP_PREBUILT", "")


@pytest.fixture(scope="session")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture
def store_env(shared_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point PYTEST_INTERP_STORE at the session store for in-process pytester runs."""
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(shared_store))
    return shared_store
