"""Sites: every family declares the roles it has, at the shapes claims rely on, from one forward pass."""

from __future__ import annotations

import pytest
import torch

from pytest_interp._errors import NotApplicable
from pytest_interp._families import FAMILIES
from pytest_interp._families.inputs import patch_side, sequence_length
from pytest_interp._sites import ROLES, Site

from family_helpers import FAMILY_NAMES, SPECS, cells, make_subject, sample_inputs

EXPECTED_ROLES = {
    "mlp": {"embed", "hidden", "mlp", "logits"},
    "cnn": {"embed", "hidden", "conv.channel", "logits"},
    "lstm": {"embed", "hidden", "logits"},
    "gru": {"embed", "hidden", "logits"},
    "transformer": {"embed", "hidden", "mlp", "attn.pattern", "attn.head", "logits"},
    "transformer-nogain": {"embed", "hidden", "mlp", "attn.pattern", "attn.head", "logits"},
    "attn-only": {"embed", "hidden", "attn.pattern", "attn.head", "logits"},
    "attn-only-1l": {"embed", "hidden", "attn.pattern", "attn.head", "logits"},
    "ssm": {"embed", "hidden", "mlp", "logits"},
}
#: How images become steps in each sequence family (mlp and cnn keep them as images).
IMAGE_STEPS = {"transformer": "patches", "transformer-nogain": "patches", "attn-only": "patches", "attn-only-1l": "patches", "lstm": "rows", "gru": "rows", "ssm": "rows"}
CAUSAL = {"lstm", "gru", "ssm"}  # causal for every output; attention families only for "position"


def test_every_registered_family_is_covered() -> None:
    assert set(FAMILY_NAMES) == set(EXPECTED_ROLES)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_roles_are_exactly_those_the_family_has(family: str) -> None:
    subject = make_subject(family, "tokens")
    assert set(subject.roles) == EXPECTED_ROLES[family]
    assert set(FAMILIES.get(family).sites) <= set(ROLES)
    for role in set(ROLES) - EXPECTED_ROLES[family]:
        with pytest.raises(NotApplicable):
            subject.site(role)


@pytest.mark.parametrize("family,spec_name", cells())
def test_site_shapes(family: str, spec_name: str) -> None:
    spec = SPECS[spec_name]
    subject = make_subject(family, spec_name)
    x = sample_inputs(spec, 5)
    run = subject.run(x)
    per_position = spec.output == "position"
    steps = sequence_length(spec, IMAGE_STEPS.get(family, "patches"))
    want = (5, steps, spec.n_classes) if per_position else (5, spec.n_classes)
    assert tuple(run.outputs.shape) == want
    assert torch.equal(run[subject.site("logits")], run.outputs)
    assert set(run.activations) == set(subject.sites())
    sequence = family in IMAGE_STEPS or (family == "cnn" and spec.modality != "images")
    for site, act in run.activations.items():
        assert act.shape[0] == 5, site
        if site.role == "embed" and sequence:
            assert act.shape[:2] == (5, steps), site
        if site.role == "hidden" and sequence:  # hidden state per step, for recurrent families too
            assert act.ndim == 3 and act.shape[:2] == (5, steps), site
        if site.role == "attn.pattern":
            heads = act.shape[1]
            assert act.shape == (5, heads, steps, steps)
            assert torch.allclose(act.sum(-1), torch.ones(5, heads, steps))
            if per_position:
                assert torch.all(act.triu(1) == 0), "per-position attention must be causal"
        if site.role == "attn.head":
            assert act.ndim == 4 and act.shape[1] == steps
        if site.role == "conv.channel":
            hidden = run[Site("hidden", site.layer)]
            if spec.modality == "images":
                assert act.ndim == 4 and torch.equal(act, hidden)
            else:  # conv layout: channels on axis 1, the hidden site is (batch, positions, channels)
                assert torch.equal(act.transpose(1, 2), hidden)


def test_image_patches_and_rows() -> None:
    """The documented rules: 8x8 -> 2x2 patches (16 positions), 28x28 -> 7x7, rows as steps."""
    assert patch_side(8, 8) == 2 and patch_side(28, 28) == 7 and patch_side(32, 32) == 8
    assert sequence_length(SPECS["images"], "patches") == 16
    assert sequence_length(SPECS["images"], "rows") == 8


@pytest.mark.parametrize("family,spec_name", [c for c in cells() if c.values[0] in CAUSAL or c.values[1] == "position"])
def test_hidden_state_per_step_is_causal(family: str, spec_name: str) -> None:
    """Changing the input at step p leaves every earlier step's hidden state alone and changes a later one."""
    spec = SPECS[spec_name]
    subject = make_subject(family, spec_name)
    x = sample_inputs(spec, 4)
    y = x.clone()
    p = 3
    if spec.modality == "tokens":
        y[:, p] = (y[:, p] + 1) % spec.vocab
    elif spec.modality == "vectors":
        y[:, p] += 1.0
    else:
        y[:, :, p] += 1.0  # one image row = one step
    for layer in range(subject.depth("hidden")):
        a = subject.activations("hidden", layer, inputs=x)
        b = subject.activations("hidden", layer, inputs=y)
        assert torch.equal(a[:, :p], b[:, :p]), f"hidden.{layer} saw the future"
        assert not torch.allclose(a[:, p:], b[:, p:])


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_depths_resolve_from_either_end(family: str) -> None:
    subject = make_subject(family, "tokens")
    for role in subject.roles:
        n = subject.depth(role)
        if FAMILIES.get(family).sites[role].repeat is None:
            assert n == 1 and subject.site(role) == Site(role)
            continue
        least = 1 if family == "attn-only-1l" else 2  # one block by design (the induction-head control)
        assert n >= least, f"{family} should have at least {least} {role} layers at 3k parameters"
        assert subject.site(role, "last") == subject.site(role, -1) == Site(role, n - 1)
        assert subject.site(role, 0) == subject.site(role, -n) == Site(role, 0)
        assert subject.site(role, "middle") == Site(role, (n - 1) // 2)
        with pytest.raises(NotApplicable):
            subject.site(role, n)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_all_sites_come_from_one_forward_pass(family: str) -> None:
    subject = make_subject(family, "tokens")
    x = sample_inputs(SPECS["tokens"], 6)
    before = subject.counters.forward_passes
    for site in subject.sites():
        subject.activations(site, inputs=x)
    assert subject.counters.forward_passes == before + 1
