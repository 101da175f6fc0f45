"""claims/test_linear_probe.py on a CI grid: sparse parity, 1k parameters, Adam, seed 0.

Holds on the MLP (probe 1.0 vs .52 on the untrained control); breaks on the 1k CNN, whose middle
hidden site is its first conv block: kernel 3, so no position sees both relevant bits (3 and 7)
and parity is not a linear function of its features (probe ~.42, chance .5). The claim file is
copied unchanged and run in-process; `--import-mode=importlib` keeps it apart
from the modules of the outer test session.
"""

from __future__ import annotations


import pytest

from interp_results import run_claim_file

CLAIM = "test_parity_is_linearly_decodable_at_the_middle_hidden_site"


@pytest.mark.usefixtures("store_env")
def test_linear_probe_holds_on_the_mlp_and_breaks_where_the_middle_site_cannot_see_both_bits(
        pytester: pytest.Pytester) -> None:
    results_list = run_claim_file(pytester, "test_linear_probe.py", "--interp-models=mlp,cnn", "--interp-sizes=1k",
                                  "--interp-optimizers=adam", "--interp-seeds=1")
    rows = {r["family"]: r for r in results_list if r["claim"].endswith(CLAIM)}
    assert {f: r["outcome"] for f, r in rows.items()} == {"mlp": "holds", "cnn": "breaks"}
    mlp = rows["mlp"]["measurements"][0]
    assert mlp["name"] == "probe_accuracy" and mlp["value"] >= 0.99
    assert mlp["null"] is not None and mlp["null"] < 0.7, "the untrained control decodes parity near chance"
    cnn = rows["cnn"]["measurements"][0]
    assert cnn["value"] < 0.6 and rows["cnn"]["training"]["reached"], "a trained model, not an untrained cell"
