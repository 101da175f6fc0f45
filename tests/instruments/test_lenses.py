"""Lenses: exact at the last depth, KL computed right, tuned lens undoes a planted map."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch import nn

from pytest_interp._errors import NotApplicable
from pytest_interp._instruments import family_readout, kl_to_final, logit_lens, subject_readout, tuned_lens

from .helpers import make_subject


def test_kl_to_final_matches_a_hand_computed_value() -> None:
    p = torch.tensor([[0.5, 0.5]], dtype=torch.float64).log()
    q = torch.tensor([[0.25, 0.75]], dtype=torch.float64).log()
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert float(kl_to_final(p, q)) == pytest.approx(expected, abs=1e-12)
    assert float(kl_to_final(p, p)) == 0.0
    assert float(kl_to_final(q, p)) != pytest.approx(expected)  # KL(final || lens), not symmetric


def test_family_readout_reproduces_the_transformer_output(transformer: Any) -> None:
    readout = family_readout(transformer.module)
    hidden = [transformer.activations(s) for s in transformer.sites("hidden")]
    with torch.no_grad():
        torch.testing.assert_close(readout(hidden[-1]), transformer.outputs(), atol=1e-5, rtol=1e-5)
    kl = logit_lens(hidden, transformer.outputs(), readout)
    assert kl[-1] == pytest.approx(0.0, abs=1e-9)
    assert kl[0] > 1e-6  # the first block is not the final readout


def test_family_readout_without_a_final_norm(mlp: Any) -> None:
    readout = family_readout(mlp.module)  # no ln_f, 2-D hidden states: head only
    with torch.no_grad():
        torch.testing.assert_close(readout(mlp.activations("hidden", "last")), mlp.outputs())


@pytest.mark.parametrize("family", ["transformer", "attn-only", "mlp", "lstm", "gru", "ssm", "cnn"])
def test_subject_readout_reproduces_every_family_from_its_last_hidden_site(family: str) -> None:
    subject = make_subject(family, "1k")
    with torch.no_grad():
        torch.testing.assert_close(subject_readout(subject)(subject.activations("hidden", "last")), subject.outputs())


def test_per_position_models_are_read_out_per_position(attn_only: Any) -> None:
    readout = subject_readout(attn_only)
    with torch.no_grad():
        torch.testing.assert_close(readout(attn_only.activations("hidden", "last")), attn_only.outputs())
    hidden = [attn_only.activations(s)[:64] for s in attn_only.sites("hidden")]
    kl = logit_lens(hidden, attn_only.outputs()[:64], readout)  # KL averaged over examples and positions
    assert kl[-1] == pytest.approx(0.0, abs=1e-9) and kl[0] > 0


def test_unknown_families_and_pools_are_refused(transformer: Any) -> None:
    class Other:
        family = "hypernetwork"

    with pytest.raises(NotApplicable):
        subject_readout(Other())
    with pytest.raises(ValueError, match="pool"):
        family_readout(transformer.module, pool="max")


def test_recurrent_lenses_train_in_eval_mode() -> None:
    gru = make_subject("gru", "10k")
    hidden = [gru.activations(s) for s in gru.sites("hidden")]
    result = tuned_lens(hidden, gru.outputs(), subject_readout(gru), module=gru.module, steps=20)
    assert result.kl[0] <= result.logit_kl[0] + 1e-6 and not gru.module.training


def planted(n: int = 400, d: int = 8, classes: int = 5, seed: int = 0) -> tuple[list[torch.Tensor], torch.Tensor, nn.Linear]:
    """Final hidden state h; an earlier depth holds h in a rotated, scaled, shifted basis."""
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(n, d, generator=g)
    head = nn.Linear(d, classes)
    with torch.no_grad():
        head.weight.copy_(2 * torch.randn(classes, d, generator=g))
        q, _ = torch.linalg.qr(torch.randn(d, d, generator=g))
        early = 0.7 * h @ q + 0.3
        return [early, h], head(h), head


def test_tuned_lens_undoes_a_planted_affine_map_and_beats_the_logit_lens() -> None:
    hidden, final, head = planted()
    result = tuned_lens(hidden, final, head, module=head, steps=200)
    assert result.logit_kl[0] > 0.5  # the logit lens reads the rotated basis wrongly
    assert result.kl[0] < 0.05 * result.logit_kl[0]
    assert result.kl[1] == pytest.approx(0.0, abs=1e-6)  # already the final layer: identity stays
    assert len(result.translators) == 2
    assert all(p.requires_grad for p in head.parameters())  # the model was frozen only while training
    tuned_lens(hidden, final, head, steps=5)  # without `module`: still no gradient left in the model
    assert all(p.grad is None for p in head.parameters())


def test_tuned_lens_is_deterministic() -> None:
    hidden, final, head = planted(n=120, seed=1)
    a = tuned_lens(hidden, final, head, steps=30)
    b = tuned_lens(hidden, final, head, steps=30)
    assert a.kl == b.kl and a.logit_kl == b.logit_kl
    assert tuned_lens(hidden, final, head, steps=30, seed=2).kl != a.kl  # a different split


def test_tuned_lens_on_a_transformer(transformer: Any) -> None:
    readout = family_readout(transformer.module)
    hidden = [transformer.activations(s) for s in transformer.sites("hidden")]
    result = tuned_lens(hidden, transformer.outputs(), readout, module=transformer.module, steps=60)
    assert result.kl[0] <= result.logit_kl[0] + 1e-6
    assert result.kl[-1] == pytest.approx(0.0, abs=1e-6)
    assert not transformer.module.training
