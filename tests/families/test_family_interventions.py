"""Interventions at every site of every family: patching with its own activation is exact, ablations bite."""

from __future__ import annotations

import pytest
import torch

from pytest_interp._interventions import add, mean, replace, zero
from pytest_interp._sites import Site

from family_helpers import SPECS, cells, make_subject, sample_inputs


@pytest.mark.parametrize("family,spec_name", cells())
def test_every_site_patches_exactly_and_ablations_change_outputs(family: str, spec_name: str) -> None:
    subject = make_subject(family, spec_name)
    x = sample_inputs(SPECS[spec_name], 8)
    clean = subject.run(x)
    for site in subject.sites():
        act = clean[site]
        same = subject.intervene({site: replace(act)}, inputs=x)
        assert torch.equal(same, clean.outputs), f"{site}: patching its own activation changed the outputs"
        for name, edit in (("zero", zero()), ("mean", mean()), ("add", add(torch.randn(act.shape[-1], generator=torch.Generator().manual_seed(0))))):
            out = subject.intervene({site: edit}, inputs=x)
            assert out.shape == clean.outputs.shape
            assert not torch.allclose(out, clean.outputs), f"{site}: {name} left the outputs unchanged"


@pytest.mark.parametrize("family,spec_name", cells())
def test_patching_from_another_input_moves_outputs_toward_it(family: str, spec_name: str) -> None:
    """Replacing the logits' input path: patching the last hidden site with another input's gives its outputs."""
    subject = make_subject(family, spec_name)
    x, y = sample_inputs(SPECS[spec_name], 8, seed=1), sample_inputs(SPECS[spec_name], 8, seed=2)
    site = subject.site("hidden", "last")
    patched = subject.intervene({site: replace(subject.activations(site, inputs=y))}, inputs=x)
    assert torch.allclose(patched, subject.outputs(y), atol=1e-6)


@pytest.mark.parametrize("family,spec_name", [c for c in cells() if c.values[1] == "position"])
def test_per_position_edits_act_from_that_position_on(family: str, spec_name: str) -> None:
    """In a per-position (causal) model, ablating position p at any site leaves earlier predictions alone."""
    subject = make_subject(family, spec_name)
    x = sample_inputs(SPECS[spec_name], 6)
    clean = subject.outputs(x)
    p = 4
    for site in subject.sites():
        if site.role == "attn.pattern":
            continue  # its position axis is the query; covered with heads below
        out = subject.intervene({site: zero(position=p)}, inputs=x)
        assert torch.equal(out[:, :p], clean[:, :p]), f"{site}: an edit at {p} changed earlier outputs"
        assert not torch.allclose(out[:, p:], clean[:, p:]), f"{site}: an edit at {p} changed nothing"


@pytest.mark.parametrize("family,spec_name", [c for c in cells() if c.values[0] in ("transformer", "attn-only")])
def test_per_head_edits(family: str, spec_name: str) -> None:
    subject = make_subject(family, spec_name, target=10_000)
    x = sample_inputs(SPECS[spec_name], 6)
    clean = subject.run(x)
    for role in ("attn.head", "attn.pattern"):
        site = subject.site(role, 0)
        heads = clean[site].shape[2 if role == "attn.head" else 1]
        assert heads >= 2, "10k attention models have several heads"
        other = subject.activations(site, inputs=sample_inputs(SPECS[spec_name], 6, seed=5))
        for h in range(heads):
            assert torch.equal(subject.intervene({site: replace(clean[site], head=h)}, inputs=x), clean.outputs)
            assert not torch.allclose(subject.intervene({site: zero(head=h)}, inputs=x), clean.outputs)
            assert not torch.allclose(subject.intervene({site: replace(other, head=h)}, inputs=x), clean.outputs)


@pytest.mark.parametrize("spec_name", ["tokens", "images"])
def test_per_channel_edits_on_conv_channels(spec_name: str) -> None:
    subject = make_subject("cnn", spec_name)
    x = sample_inputs(SPECS[spec_name], 6)
    clean = subject.run(x)
    site = subject.site("conv.channel", "last")
    live = [c for c in range(clean[site].shape[1]) if clean[site][:, c].abs().sum() > 0]
    assert live
    out = subject.intervene({site: zero(channel=live[0])}, inputs=x)
    assert not torch.allclose(out, clean.outputs)
    assert torch.equal(subject.intervene({site: replace(clean[site], channel=live[0])}, inputs=x), clean.outputs)


@pytest.mark.parametrize("family", ["lstm", "gru", "ssm"])
def test_patching_a_recurrent_layer_reaches_the_next_layer(family: str) -> None:
    """hidden.0 is the full output sequence of layer 0: editing it must change what layer 1 computes."""
    subject = make_subject(family, "tokens")
    x = sample_inputs(SPECS["tokens"], 6)
    first, second = subject.site("hidden", 0), subject.site("hidden", 1)
    seen: list[torch.Tensor] = []
    target = subject.module.get_submodule("layers.1" if family != "ssm" else "blocks.1")
    handle = target.register_forward_hook(lambda _m, _i, out: seen.append(out.detach()))
    try:
        subject.intervene({first: zero(position=2)}, inputs=x)
    finally:
        handle.remove()
    assert not torch.allclose(seen[0], subject.activations(second, inputs=x))


@pytest.mark.parametrize(
    "family,spec_name,site,kwargs",
    [("mlp", "tokens", Site("hidden", 0), {"position": 0}),  # (batch, width): no positions
     ("cnn", "images", Site("hidden", 0), {"position": 0}),  # (batch, C, H, W)
     ("lstm", "tokens", Site("hidden", 0), {"head": 0}),
     ("transformer", "tokens", Site("hidden", 0), {"channel": 0}),
     ("transformer", "tokens", Site("logits"), {"position": 0})],  # class output: one per input
)
def test_edits_on_a_missing_axis_are_refused(family: str, spec_name: str, site: Site, kwargs: dict) -> None:
    """A position, head or channel the site lacks must raise, never silently edit another axis."""
    subject = make_subject(family, spec_name)
    with pytest.raises(ValueError, match="no (position|head|channel) axis"):
        subject.intervene({site: zero(**kwargs)}, inputs=sample_inputs(SPECS[spec_name], 4))
