"""claims/test_fourier_features.py on a CI grid: transformer 10k, seed 0, AdamW (weight decay 1.0) vs Adam.

Smaller than the claim's defaults so the test stays under two minutes: p = 31 instead of 53
(the claim file's task options are rewritten in the copy) and a budget of 3000 steps. AdamW
groks by step 2100 on one machine and by 2500 on another (an AMD EPYC: floating-point sums
differ between CPUs, and grokking is sensitive to them), so the budget leaves room; the top-5
Fourier share of its embedding is .89 and .93 there (control .40); Adam
without weight decay memorizes and never reaches the task's target, so its cell is `untrained`
(the documented condition: grokking needs weight decay).
Left out: `test_the_seed_picks_the_key_frequencies` needs a second grokked seed; at p = 31 seed 1
had not grokked within 2200 steps, and a longer budget would double this test's two minutes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from interp_results import read_results

ROOT = Path(__file__).resolve().parents[2]
ZOO = """
[grid]
families = ["transformer"]
sizes = ["10k"]
optimizers = ["adamw", "adam"]
seeds = 1

[hparams.adamw]
lr = 3e-3
weight_decay = 1.0
beta1 = 0.9
beta2 = 0.98

[budget]
steps = 3000
"""
CLAIM = "test_token_embedding_is_sparse_in_the_fourier_basis"


@pytest.mark.usefixtures("store_env")
def test_the_grokked_embedding_is_fourier_sparse_and_no_decay_does_not_grok(pytester: pytest.Pytester) -> None:
    source = (ROOT / "claims" / "test_fourier_features.py").read_text()
    assert source.count('task="modular-addition"') == 2  # both claims
    pytester.makepyfile(test_fourier_features=source.replace('task="modular-addition"', 'task="modular-addition", p=31'))
    (pytester.path / "zoo.toml").write_text(ZOO)
    out = pytester.path / "results.json"
    pytester.runpytest("test_fourier_features.py", "--interp-models=zoo.toml", f"--interp-json={out}", "-k", CLAIM)
    results = {(r["claim"].split("::")[1], r["optimizer"]): r for r in read_results(out)["results"]}
    assert {k: r["outcome"] for k, r in results.items()} == {
        (CLAIM, "adamw"): "holds", (CLAIM, "adam"): "untrained",
    }
    share = results[(CLAIM, "adamw")]["measurements"][0]
    assert share["value"] >= 0.8 and share["null"] < 0.5  # .89 measured; control: top 5 of 15 frequencies hold ~.40
    assert results[(CLAIM, "adam")]["training"]["test_accuracy"] < 0.5  # memorized, did not grok
