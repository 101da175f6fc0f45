"""The terminal matrix and its per-axis lines on planted outcomes."""

from __future__ import annotations

from typing import Any

from pytest_interp._report.terminal import axis_line, render, verdict_of


def _r(family: str, size: str, opt: str, outcome: str, seed: int = 0) -> dict[str, Any]:
    return {"claim": "c.py::t", "family": family, "size": size, "optimizer": opt, "task": "t",
            "seed": seed, "outcome": outcome}


def test_verdicts() -> None:
    assert verdict_of(["holds", "holds", "n/a"]) == "holds"
    assert verdict_of(["holds", "breaks"]) == "mixed"
    assert verdict_of(["breaks", "untrained"]) == "breaks"
    assert verdict_of(["untrained", "n/a"]) == "untrained"
    assert verdict_of(["n/a"]) == "n/a"


def test_size_line_says_where_it_stops_holding() -> None:
    sizes = ["1k", "10k", "100k"]
    assert axis_line(sizes, {"1k": "holds", "10k": "holds", "100k": "breaks"}, "size") == \
        "holds up to 10k, breaks from 100k"
    assert axis_line(sizes, {"1k": "breaks", "10k": "holds", "100k": "holds"}, "size") == \
        "breaks up to 1k, holds from 10k"
    assert axis_line(sizes, {"1k": "holds", "10k": "breaks", "100k": "holds"}, "size") == \
        "holds at 1k, 100k; breaks at 10k"


def test_family_and_optimizer_lines() -> None:
    assert axis_line(["lstm", "ssm", "transformer"], {"lstm": "breaks", "ssm": "holds", "transformer": "holds"},
                     "family") == "holds for ssm, transformer; breaks for lstm"
    assert axis_line(["adam", "sgd"], {"adam": "breaks", "sgd": "holds"}, "optimizer") == \
        "holds under sgd; breaks under adam"


def test_matrix_has_one_symbol_per_seed() -> None:
    results = [_r("mlp", "1k", "sgd", "holds", 0), _r("mlp", "1k", "sgd", "breaks", 1),
               _r("mlp", "10k", "sgd", "holds", 0), _r("mlp", "10k", "sgd", "holds", 1)]
    lines = render(results, unicode=False)
    assert lines[0].startswith("c.py::t")
    assert lines[2].split() == ["mlp", "sgd", "+x", "1/2", "++", "2/2"]
    assert "  size:      holds at 10k; mixed at 1k" in lines
    assert lines[-1].startswith("legend:")


def test_vacuous_cells_have_their_own_symbol_and_line() -> None:
    results = [{**_r("mlp", "1k", "sgd", "holds"), "vacuous": True, "control": {"outcome": "holds"}}]
    lines = render(results, unicode=False)
    assert lines[2].split() == ["mlp", "sgd", "o"]
    assert "  vacuous:   also holds on the untrained control at mlp-1k-sgd" in lines
    assert "1 vacuous" in lines[0]
