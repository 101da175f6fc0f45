"""claims/test_lenses.py on a CI grid: transformer (a residual stream) and gru (a plain stack), 100k, Adam, seed 0.

The task's default budget (early stop at accuracy 0.4: ~300-500 steps). The tuned lens beats the
logit lens on both; the logit lens is informative only with a residual stream, so it holds on
the transformer and breaks on the GRU.
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
TUNED = "test_tuned_lens_beats_the_logit_lens_at_the_middle_hidden_site"
LOGIT = "test_logit_lens_is_informative_at_the_middle_hidden_site"


@pytest.mark.usefixtures("store_env")
def test_logit_lens_needs_a_residual_stream_and_the_tuned_lens_does_not(pytester: pytest.Pytester) -> None:
    results_list = run_claim_file(pytester, "test_lenses.py", zoo=ZOO)
    results = {(r["claim"].split("::")[1], r["family"]): r for r in results_list}
    assert {k: r["outcome"] for k, r in results.items()} == {
        (TUNED, "transformer"): "holds", (TUNED, "gru"): "holds",
        (LOGIT, "transformer"): "holds", (LOGIT, "gru"): "breaks",
    }
    value = {k: r["measurements"][0]["value"] for k, r in results.items()}
    null = {k: r["measurements"][0]["null"] for k, r in results.items()}
    assert value[(LOGIT, "transformer")] < 0.3 < 1.0 < null[(LOGIT, "transformer")]  # rotation destroys it
    assert value[(LOGIT, "gru")] > 1.0  # worse than predicting uniformly: no shared basis
    assert value[(TUNED, "gru")] < 0.1 < value[(TUNED, "transformer")] < 0.8  # the lens repairs the GRU most
