"""claims/test_superposition.py on a CI grid: the toy model (`tied-ae`, registered by claims/conftest.py),
1k (n = 20 features, m = 5 dimensions), Adam, seed 0, the task's full budget (3000 steps, ~9 s a cell).

Sparse features (sparsity 0.9): 9 features represented in 5 dimensions, the claim holds. Dense
features (sparsity 0.0): exactly 5, one per dimension, so the same claim breaks there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from interp_results import read_results

ROOT = Path(__file__).resolve().parents[2]
SPARSE = "test_sparse_features_outnumber_the_dimensions"
DENSE = "test_dense_features_outnumber_the_dimensions"


@pytest.mark.usefixtures("store_env")
def test_sparse_features_are_superposed_and_dense_ones_are_not(pytester: pytest.Pytester) -> None:
    claims = pytester.path / "claims"
    claims.mkdir()
    for name in ("conftest.py", "test_superposition.py"):
        shutil.copy(ROOT / "claims" / name, claims / name)
    out = pytester.path / "results.json"
    pytester.runpytest("claims/test_superposition.py", "--interp-models=tied-ae", "--interp-sizes=1k",
                       "--interp-optimizers=adam", f"--interp-json={out}")
    results = {(r["claim"].split("::")[1], r["family"]): r for r in read_results(out)["results"]}
    assert {k: r["outcome"] for k, r in results.items()} == {
        (SPARSE, "tied-ae"): "holds", (DENSE, "tied-ae"): "breaks",
    }
    sparse = results[(SPARSE, "tied-ae")]["measurements"][0]
    assert sparse["value"] >= 1.4 and sparse["null"] == 0.0  # 9/5 measured; the untrained control's norms are < 0.5
    dense = results[(DENSE, "tied-ae")]["measurements"][0]
    assert dense["value"] == 1.0  # exactly one feature per dimension
