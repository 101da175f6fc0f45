"""Spec strings, sizes and cells."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_interp._errors import ConfigError
from pytest_interp._grid import PRESETS, Cell, GridSpec, parse_list, parse_models, parse_seeds, parse_size, parse_sizes


@pytest.mark.parametrize("text, value", [("1k", 1000), ("10K", 10_000), ("2.5k", 2500), ("1m", 1_000_000),
                                         ("100", 100), ("100m", 100_000_000)])
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "k", "1g", "1.0001k", "-1k", "99", "101m", "1 k", "1e3"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_size(text)


@given(st.integers(min_value=100, max_value=100_000_000))
def test_parse_size_of_plain_integers(n: int) -> None:
    assert parse_size(str(n)) == n


@given(st.lists(st.text(alphabet="abcxyz-", min_size=1, max_size=6), min_size=1, max_size=5, unique=True))
def test_parse_list_round_trips(items: list[str]) -> None:
    assert parse_list(",".join(items), "things") == items
    assert parse_list(" , ".join(items), "things") == items


def test_parse_list_rejects_empty_items_and_repeats() -> None:
    for text in ("", "a,", ",a", "a,,b"):
        with pytest.raises(ConfigError, match="empty"):
            parse_list(text, "families")
    with pytest.raises(ConfigError, match="twice"):
        parse_list("a,b,a", "families")


def test_sizes_keep_their_label_lowercased() -> None:
    assert parse_sizes("1K,10k") == ("1k", "10k")


def test_seeds() -> None:
    assert parse_seeds("3") == 3
    for bad in ("0", "-1", "1.5", "x", "101"):
        with pytest.raises(ConfigError):
            parse_seeds(bad)


def test_models_spec_forms() -> None:
    assert parse_models("default") == PRESETS["default"]
    assert parse_models("mlp").families == ("mlp",)
    with pytest.raises(ConfigError, match="unknown family"):
        parse_models("mlp,lstmm")


def test_cells_are_the_product_of_the_axes() -> None:
    grid = GridSpec(("mlp", "transformer"), ("1k", "10k"), ("sgd",), seeds=3)
    cells = grid.cells()
    assert len(cells) == 2 * 2 * 1 * 3
    assert len({c.key for c in cells}) == len(cells)


def test_cell_ids_and_keys() -> None:
    c = Cell("transformer", "10k", "adam", "sparse-parity", 0)
    assert c.id == "transformer-10k-adam-s0"
    assert c.key == "transformer-10k-adam-sparse-parity-s0"
    d = Cell("mlp", "1k", "sgd", "sparse-parity", 1, (("n", 12), ("relevant", (1, 2, 3))))
    assert d.key == "mlp-1k-sgd-sparse-parity[n=12,relevant=(1+2+3)]-s1"
