"""Every learning algorithm trains every family to the sparse-parity target at 10k parameters.

The cells are trained exactly as the plugin trains them (default task, budget and
hyperparameters, seed 0). The combinations that cannot, within the 1500-step budget,
are listed in UNTRAINED with the held-out accuracy they end at (measured with
benchmarks/algorithm_table.py); for those the test checks they stay untrained and do
not diverge, so an improvement shows up as a failure to update the table.

CI runs the MLP and the transformer; the slow ones (and every other family) are marked
`slow`: `python -m pytest tests/algorithms -m slow`.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_interp._algorithms import ALGORITHMS
from pytest_interp._families import FAMILIES
from pytest_interp._grid import Cell
from pytest_interp._train import make_plan, train

ALGORITHM_NAMES = ["sgd", "adam", "adamw", "muon", "lbfgs", "shampoo", "es", "reptile"]
CI_FAMILIES = ["mlp", "transformer"]

#: (family, algorithm) -> held-out accuracy at the end of the budget, seed 0.
UNTRAINED: dict[tuple[str, str], float] = {
    ("lstm", "es"): 0.69,  # gradient-free: one generation per step is too few (PILOTS.md)
    ("gru", "es"): 0.68,
    ("ssm", "sgd"): 0.60,  # PILOTS.md: SGD fails on the recurrent families; here LSTM and GRU learn late
}

#: Over ~30 s each on one core: ES on the transformer (65 forward passes a step, 500 steps)
#: and Reptile's meta-training (4500 inner steps) on it.
SLOW: set[tuple[str, str]] = {("transformer", "es"), ("transformer", "reptile")}


def _cases() -> list[Any]:
    out = []
    for family in FAMILIES.names():
        for algorithm in ALGORITHM_NAMES:
            slow = family not in CI_FAMILIES or (family, algorithm) in SLOW
            marks = [pytest.mark.slow] if slow else []
            out.append(pytest.param(family, algorithm, marks=marks, id=f"{family}-{algorithm}"))
    return out


@pytest.mark.parametrize("family, algorithm", _cases())
def test_trains_sparse_parity_at_10k(family: str, algorithm: str) -> None:
    assert algorithm in ALGORITHMS
    _, metrics = train(make_plan(Cell(family, "10k", algorithm, "sparse-parity", 0)))
    assert not metrics["diverged"], metrics
    if (family, algorithm) in UNTRAINED:
        assert not metrics["reached"], f"{family} x {algorithm} now trains: update UNTRAINED ({metrics})"
        assert metrics["test_accuracy"] == pytest.approx(UNTRAINED[family, algorithm], abs=0.1)
    else:
        assert metrics["reached"], metrics
