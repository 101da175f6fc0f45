"""claims/test_steering.py on a CI grid: transformer and gru, 100k, Adam, seed 0.

The task's default budget (early stop at accuracy 0.4: 300-500 steps; the cells are the ones
tests/claims/test_lenses.py trains, shared through the session's store). The difference of means
steers both architectures (>= 97% of the other predictions become whitespace, random directions
of the same norm 14-19%); on each cell's untrained control the same recipe steers nothing (0%),
so the claim breaks there and the holds are not vacuous: the steerable direction is learned.
"""

from __future__ import annotations


import pytest

from interp_results import run_claim_file

ZOO = """
[grid]
families = ["transformer", "gru"]
sizes = ["100k"]
optimizers = ["adam"]
seeds = 1
"""


@pytest.mark.usefixtures("store_env")
def test_steers_a_transformer_and_a_gru_but_not_their_untrained_controls(pytester: pytest.Pytester) -> None:
    results_list = run_claim_file(pytester, "test_steering.py", zoo=ZOO)
    results = {r["family"]: r for r in results_list}
    assert {f: r["outcome"] for f, r in results.items()} == {"transformer": "holds", "gru": "holds"}
    for family, r in results.items():
        m = {x["name"]: x for x in r["measurements"]}
        assert m["steered_to_whitespace"]["value"] >= 0.9, family
        assert m["steered_to_whitespace"]["null"] <= 0.3, family  # random directions of the same norm
        assert 0.2 <= m["relative_norm"]["value"] <= 1.0, family
        # the breaking side: the untrained control has no whitespace direction to push along
        assert not r["vacuous"] and r["control"]["outcome"] == "breaks", family
        control = {x["name"]: x for x in r["control"]["measurements"]}
        assert control["steered_to_whitespace"]["value"] <= 0.05, family
