"""claims/test_induction_heads.py on a CI grid: attn-only (2 layers) and attn-only-1l, 10k, Adam, seed 0.

Budget lowered to 700 steps (a zoo file's [budget]) so the test stays well under a minute:
the 2-layer model forms its induction head by step 500; the 1-layer model learns the task
beyond chance (the task's target, 3x chance) but never forms the head (PILOTS.md: not within
2500 steps), so both claims break there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from interp_results import read_results

ROOT = Path(__file__).resolve().parents[2]
ZOO = """
[grid]
families = ["attn-only", "attn-only-1l"]
sizes = ["10k"]
optimizers = ["adam"]
seeds = 1

[budget]
steps = 700
"""
HEAD = "test_a_head_attends_to_the_token_after_the_earlier_occurrence"
TWIN = "test_copies_a_repeated_segment_in_context"


@pytest.mark.usefixtures("store_env")
def test_two_layers_form_an_induction_head_and_one_layer_does_not(pytester: pytest.Pytester) -> None:
    shutil.copy(ROOT / "claims" / "test_induction_heads.py", pytester.path / "test_induction_heads.py")
    (pytester.path / "zoo.toml").write_text(ZOO)
    out = pytester.path / "results.json"
    pytester.runpytest("test_induction_heads.py", "--interp-models=zoo.toml", f"--interp-json={out}")
    results = {(r["claim"].split("::")[1], r["family"]): r for r in read_results(out)["results"]}
    assert {k: r["outcome"] for k, r in results.items()} == {
        (HEAD, "attn-only"): "holds", (TWIN, "attn-only"): "holds",
        (HEAD, "attn-only-1l"): "breaks", (TWIN, "attn-only-1l"): "breaks",
    }
    head = results[(HEAD, "attn-only")]["measurements"][0]
    assert head["value"] >= 0.5 and head["null"] < 0.1  # the untrained control spreads its attention
    twin = results[(TWIN, "attn-only")]["measurements"][0]
    assert twin["value"] >= 0.5 and twin["null"] < 0.1  # chance is 1/64
    # the breaking side: one layer learns beyond chance but copies far less, with no prefix-matching head
    assert 0.05 <= results[(HEAD, "attn-only-1l")]["training"]["test_accuracy"] < 0.3
    assert results[(HEAD, "attn-only-1l")]["measurements"][0]["value"] < 0.5
