"""`transformer-nogain`: the transformer with parameter-free RMSNorm (the privileged-basis variant)."""

from __future__ import annotations

import torch
from torch import nn

from pytest_interp._families import FAMILIES

from family_helpers import SPECS, make_subject, sample_inputs


def test_no_norm_has_a_per_dimension_parameter() -> None:
    """Every norm is RMSNorm without weight; no LayerNorm is left; sizes differ from `transformer` by the norms only."""
    spec = SPECS["position"]
    config, params = FAMILIES.get("transformer-nogain").fit(3_000, spec)
    module = FAMILIES.get("transformer-nogain").build(config, spec)
    norms = [m for m in module.modules() if isinstance(m, (nn.LayerNorm, nn.RMSNorm))]
    assert len(norms) == 2 * config["depth"] + 1
    assert all(isinstance(m, nn.RMSNorm) and m.weight is None for m in norms)
    plain = FAMILIES.get("transformer").build(config, spec)
    n_plain = sum(p.numel() for p in plain.parameters())
    assert n_plain - params == 2 * config["d"] * len(norms)
    assert sum(p.numel() for p in module.parameters()) == params


def test_rotating_the_residual_stream_commutes_with_the_norm() -> None:
    """No privileged basis in the norm: RMSNorm(x R) == RMSNorm(x) R for any rotation R (a gain breaks this)."""
    subject = make_subject("transformer-nogain", "position")
    norm = subject.module.ln_f
    d = norm.normalized_shape[0]
    x = torch.randn(5, d, generator=torch.Generator().manual_seed(0))
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=torch.Generator().manual_seed(1)))
    torch.testing.assert_close(norm(x @ q), norm(x) @ q, atol=1e-5, rtol=1e-5)


def test_same_sites_and_shapes_as_transformer() -> None:
    a, b = make_subject("transformer-nogain", "position"), make_subject("transformer", "position")
    assert a.roles == b.roles
    x = sample_inputs(SPECS["position"], 4)
    for site in b.sites():
        assert a.activations(site, inputs=x).shape == b.activations(site, inputs=x).shape
