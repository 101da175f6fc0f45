"""Parametrize a claim's `model` fixture over the cells of the run's grid, one pytest param per cell.

Kept out of `_plugin` so the hooks stay thin; imported only once a test asks for `model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pytest

if TYPE_CHECKING:
    from ._grid import Cell, GridSpec

#: the module whose `model` fixture we parametrize; a conftest's own `model` fixture is left alone
FIXTURE_MODULE = "pytest_interp._plugin"


def parametrize_cells(metafunc: pytest.Metafunc, grid: Callable[[], "GridSpec"]) -> None:
    """One param per cell of the claim's task, each in its cell's xdist group; a clear usage error for a bad spec."""
    if not our_model_fixture(metafunc):
        return
    from ._claimspec import claim_spec
    from ._grid import check_task

    marker = metafunc.definition.get_closest_marker("interp")
    spec = claim_spec(metafunc.function, dict(marker.kwargs) if marker else None)
    try:
        check_task(spec.task)
        cells = grid().cells(spec.task, spec.task_options)
    except ValueError as exc:
        raise pytest.UsageError(f"pytest-interp: claim {metafunc.definition.nodeid}: {exc}") from None
    if not cells:  # a zoo file of named models only, none of which learned this claim's task
        from ._grid import Cell
        from ._outcomes import NA_PREFIX

        label = Cell("", "", "", spec.task, 0, tuple(sorted(spec.task_options.items()))).task_label
        skip = pytest.mark.skip(reason=f"{NA_PREFIX}no model in this run learned {label}")
        metafunc.parametrize("model", [pytest.param(None, id="no-model", marks=skip)], indirect=True)
        return
    params = [pytest.param(c, id=c.id, marks=pytest.mark.xdist_group(c.key)) for c in cells]
    metafunc.parametrize("model", params, indirect=True)


def our_model_fixture(metafunc: pytest.Metafunc) -> bool:
    """False where a conftest overrides `model` with a fixture of its own: then it is theirs."""
    defs = getattr(metafunc, "_arg2fixturedefs", {}).get("model")
    if not defs:
        return True
    return getattr(defs[-1].func, "__module__", FIXTURE_MODULE) == FIXTURE_MODULE


def cell_of(item: pytest.Item) -> "Cell | None":
    """The cell an item was parametrized with, or None for a test that is not a claim."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    from ._grid import Cell

    value = callspec.params.get("model")
    return value if isinstance(value, Cell) else None
