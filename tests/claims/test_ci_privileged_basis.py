"""claims/test_privileged_basis.py on a CI grid: transformer-nogain, 100k, Adam vs SGD, seed 0.

Adam at lr 1e-2 (FINDINGS' hparams) and a budget of 1000 steps evaluated only at the end
(FINDINGS runs 2000; char-text's early stop would end training at ~500 steps, before the
outliers grow). At 1000 steps Adam's kurtosis ratio was 2.5 here (5.2 at 2000), SGD's 1.0.
"""

from __future__ import annotations


import pytest

from interp_results import run_claim_file

ZOO = """
[grid]
families = ["transformer-nogain"]
sizes = ["100k"]
optimizers = ["adam", "sgd"]
seeds = 1

[hparams.adam]
lr = 0.01

[budget]
steps = 1000
eval_every = 1000
"""
CLAIM = "test_residual_stream_has_outlier_dimensions"


@pytest.mark.usefixtures("store_env")
def test_adam_grows_outlier_dimensions_and_sgd_does_not(pytester: pytest.Pytester) -> None:
    results_list = run_claim_file(pytester, "test_privileged_basis.py", zoo=ZOO)
    results = {(r["claim"].split("::")[1], r["optimizer"]): r for r in results_list}
    assert {k: r["outcome"] for k, r in results.items()} == {(CLAIM, "adam"): "holds", (CLAIM, "sgd"): "breaks"}
    adam, sgd = (results[(CLAIM, o)]["measurements"][0] for o in ("adam", "sgd"))
    assert adam["value"] >= 2.0 and not results[(CLAIM, "adam")]["vacuous"]
    assert 0.8 <= sgd["value"] <= 1.3  # SGD: no preferred basis, like a rotation
    assert 0.8 <= adam["null"] <= 1.3  # the untrained control has none either
    assert results[(CLAIM, "adam")]["training"]["steps"] == 1000  # the whole budget ran
