"""Patching the clean activation restores 100%; units that do not differ restore nothing."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from pytest_interp._instruments import PatchKey, ablation_sweep, patch_units, patching_sweep
from pytest_interp._interventions import mean as mean_edit
from pytest_interp._sites import Site


def logit_diff(outputs: torch.Tensor) -> torch.Tensor:
    return (outputs[:, 1] - outputs[:, 0]).mean()


@pytest.fixture(scope="module")
def pair(transformer: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Clean inputs and the same inputs with every bit flipped."""
    clean = transformer.data.x[:48]
    return clean, 1 - clean


def test_patching_a_whole_site_from_the_clean_run_restores_everything(transformer: Any, pair: Any) -> None:
    clean, corrupted = pair
    for site in [transformer.site("embed"), transformer.site("hidden", "last"), transformer.site("logits")]:
        result = patching_sweep(transformer, clean, corrupted, logit_diff, sites=[site], by=["site"])
        assert result == {PatchKey(site): pytest.approx(1.0, abs=1e-5)}


def test_units_that_do_not_differ_restore_nothing(transformer: Any) -> None:
    clean = transformer.data.x[:48]
    corrupted = clean.clone()
    corrupted[:, 3] = 1 - corrupted[:, 3]  # only position 3 differs
    embed = transformer.site("embed")
    result = patching_sweep(transformer, clean, corrupted, logit_diff, sites=[embed], by=["position"])
    assert set(result) == {PatchKey(embed, position=p) for p in range(10)}
    for key, value in result.items():
        assert value == pytest.approx(1.0 if key.position == 3 else 0.0, abs=1e-5), key


def test_sweep_covers_sites_heads_and_positions(transformer: Any, pair: Any) -> None:
    result = patching_sweep(transformer, *pair, logit_diff)
    heads = transformer.site("attn.head", 0)
    assert PatchKey(heads) in result
    assert {k.head for k in result if k.site == heads and k.head is not None} == {0, 1}
    assert {k.position for k in result if k.site == heads and k.position is not None} == set(range(10))
    assert not any(k.site == transformer.site("logits") and (k.head, k.position) != (None, None) for k in result)
    assert all(torch.isfinite(torch.tensor(v)) for v in result.values())


def test_mlp_hidden_sites_have_no_positions(mlp: Any) -> None:
    site = mlp.site("hidden", 0)
    act = mlp.activations(site)
    assert act.ndim == 2
    assert patch_units(site, act) == [PatchKey(site)]


def test_batched_sweep_equals_one_pass_per_unit(transformer: Any, pair: Any) -> None:
    sites = [transformer.site("attn.pattern", 1), transformer.site("hidden", 0), transformer.site("mlp", 1)]
    fast = patching_sweep(transformer, *pair, logit_diff, sites=sites, max_rows=48 * 5)
    slow = patching_sweep(transformer, *pair, logit_diff, sites=sites, batched=False)
    assert fast.keys() == slow.keys()
    for key in fast:
        assert fast[key] == pytest.approx(slow[key], abs=1e-5), key


def _hook_patch(subject: Any, site: Site, clean: torch.Tensor, corrupted: torch.Tensor, head: int) -> torch.Tensor:
    """Reference: a plain forward hook writing the clean head's output into the corrupted run."""
    module = subject.module.get_submodule(f"blocks.{site.layer}.attn.head")
    with torch.no_grad():
        store: dict[str, torch.Tensor] = {}
        h = module.register_forward_hook(lambda _m, _i, out: store.setdefault("clean", out.clone()))
        subject.module(clean)
        h.remove()

        def patch(_m: Any, _i: Any, out: torch.Tensor) -> torch.Tensor:
            out = out.clone()
            out[:, :, head] = store["clean"][:, :, head]
            return out

        h = module.register_forward_hook(patch)
        try:
            return subject.module(corrupted)
        finally:
            h.remove()


def test_head_patching_matches_a_plain_forward_hook(transformer: Any, pair: Any) -> None:
    clean, corrupted = pair
    site = transformer.site("attn.head", 1)
    result = patching_sweep(transformer, clean, corrupted, logit_diff, sites=[site], by=["head"])
    with torch.no_grad():
        m_clean, m_bad = logit_diff(transformer.module(clean)), logit_diff(transformer.module(corrupted))
    for head in (0, 1):
        expected = (logit_diff(_hook_patch(transformer, site, clean, corrupted, head)) - m_bad) / (m_clean - m_bad)
        assert result[PatchKey(site, head=head)] == pytest.approx(float(expected), abs=1e-5)


def test_identical_inputs_have_nothing_to_restore(transformer: Any) -> None:
    x = transformer.data.x[:8]
    with pytest.raises(ValueError, match="nothing to restore"):
        patching_sweep(transformer, x, x.clone(), logit_diff)


def test_mean_ablation_sweep_matches_subject_intervene(transformer: Any) -> None:
    x = transformer.data.x[:32]
    site = transformer.site("hidden", 0)
    result = ablation_sweep(transformer, x, logit_diff, kind="mean", sites=[site], by=["site", "position"])
    base = float(logit_diff(transformer.outputs(x)))
    for key in (PatchKey(site), PatchKey(site, position=4)):
        ablated = transformer.intervene({site: mean_edit(position=key.position)}, inputs=x)
        assert result[key] == pytest.approx(float(logit_diff(ablated)) - base, abs=1e-5)
    zero = ablation_sweep(transformer, x, logit_diff, kind="zero", sites=[transformer.site("logits")], by=["site"])
    assert zero[PatchKey(transformer.site("logits"))] == pytest.approx(-base, abs=1e-5)


def test_bad_arguments(transformer: Any) -> None:
    x = transformer.data.x[:8]
    with pytest.raises(ValueError, match="shape"):
        patching_sweep(transformer, x, x[:4], logit_diff)
    with pytest.raises(ValueError, match="unit"):
        patch_units(transformer.site("embed"), transformer.activations("embed"), by=["neuron"])
    with pytest.raises(ValueError, match="kind"):
        ablation_sweep(transformer, x, logit_diff, kind="resample")

