"""claims/test_saliency_sanity.py on a CI grid: digits, MLP / CNN / GRU at 1k and 10k, Adam, seed 0.

Default digits budget (cells stop at the .9 accuracy target). Expected, from the calibration in the
claim's docstring: gradient saliency is sensitive to full randomization everywhere but, in the MLP,
not to redrawing the logit layer alone; guided backprop keeps the paper's level (>= .8) when only the
logit layer is redrawn in the 10k MLP and CNN, not in the 1k CNN (5 channels, stride 2) and not under
full randomization; it is n/a on the GRU (no nn.ReLU); integrated gradients look insensitive when the
zero pixels are scored. The claim file is copied unchanged and run in-process;
`--import-mode=importlib` keeps it apart
from the modules of the outer test session.
"""

from __future__ import annotations


import pytest
import torch

import pytest_interp as interp
from interp_results import run_claim_file


@pytest.mark.usefixtures("store_env")
def test_saliency_sanity_checks_hold_and_break_where_the_calibration_says(pytester: pytest.Pytester) -> None:
    results_list = run_claim_file(pytester, "test_saliency_sanity.py", "--interp-models=mlp,cnn,gru", "--interp-sizes=1k,10k",
                                  "--interp-optimizers=adam", "--interp-seeds=1")
    got = {(r["claim"].split("::")[1], r["variant"], f"{r['family']}-{r['size']}"): r
           for r in results_list}
    outcome = {k: r["outcome"] for k, r in got.items()}
    grad, gb, ig = (f"test_{n}_when_the_weights_are_randomized" for n in
                    ("gradient_saliency_changes", "guided_backprop_barely_changes", "integrated_gradients_change"))
    every = ("mlp-1k", "mlp-10k", "cnn-1k", "cnn-10k", "gru-1k", "gru-10k")
    assert all(outcome[(grad, "randomized='all'", c)] == "holds" for c in every)
    assert outcome[(grad, "randomized='logits'", "mlp-10k")] == "breaks"
    assert outcome[(grad, "randomized='logits'", "cnn-1k")] == "holds"
    assert outcome[(gb, "randomized='logits'", "mlp-10k")] == "holds"
    assert outcome[(gb, "randomized='logits'", "cnn-10k")] == "holds"
    assert outcome[(gb, "randomized='logits'", "cnn-1k")] == "breaks"
    assert outcome[(gb, "randomized='all'", "mlp-10k")] == "breaks"
    assert all(outcome[(gb, v, c)] == "n/a" for v in ("randomized='logits'", "randomized='all'")
               for c in ("gru-1k", "gru-10k"))
    assert "nn.ReLU" in got[(gb, "randomized='all'", "gru-1k")]["reason"]
    assert outcome[(ig, "pixels='non-zero'", "mlp-1k")] == "holds"
    assert outcome[(ig, "pixels='all'", "mlp-1k")] == "breaks"
    # every structural number comes with its null: unrelated images of the same trained model
    m = got[(grad, "randomized='all'", "mlp-10k")]["measurements"][0]
    assert m["value"] < 0.2 and 0.1 < m["null"] < 0.6


def test_guided_backprop_really_hooks_the_relus_it_needs() -> None:
    """The MLP and CNN use nn.ReLU modules (hookable), so guided backprop differs from the gradient;
    the GRU has none, so it is n/a rather than a silent plain gradient."""
    from pytest_interp._families import FAMILIES
    from pytest_interp._tasks import make_task

    spec = make_task("digits").spec
    x = make_task("digits").test_set().x[:8]
    torch.manual_seed(0)
    for family, config in (("mlp", {"width": 16, "depth": 2, "embed_dim": 4}), ("cnn", {"channels": 4, "depth": 2})):
        net = FAMILIES.get(family).build(config, spec)
        assert len(interp.relu_modules(net)) == 2
        gb, grad = interp.guided_backprop(net, x, 3), interp.saliency(net, x, 3, absolute=False)
        assert not torch.allclose(gb, grad)
    gru = FAMILIES.get("gru").build({"d": 8, "depth": 1}, spec)
    assert interp.relu_modules(gru) == []
    with pytest.raises(interp.NotApplicable, match="nn.ReLU"):
        interp.guided_backprop(gru, x, 3)
