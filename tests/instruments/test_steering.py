"""Steering: the difference of means is exact on planted data; flips are counted right."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from pytest_interp._instruments import flip_rate, mean_difference, random_direction, relative_norm, steering_effect

from .helpers import make_subject, rewrap


def test_mean_difference_recovers_a_planted_direction() -> None:
    noise = torch.randn(50, 6, 4, generator=torch.Generator().manual_seed(0))
    v = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    acts = torch.cat([noise, noise + v])  # the same noise under both labels
    labels = torch.cat([torch.zeros(50), torch.ones(50)])
    torch.testing.assert_close(mean_difference(acts, labels), v)
    with pytest.raises(ValueError, match="both labels"):
        mean_difference(acts, torch.ones(100))


def test_random_direction_has_the_same_norm_and_shape() -> None:
    v = torch.tensor([3.0, 4.0, 0.0])
    r = random_direction(v, seed=1)
    assert r.shape == v.shape and float(r.norm()) == pytest.approx(5.0)
    assert not torch.allclose(r, v)
    assert torch.equal(r, random_direction(v, seed=1)) and not torch.equal(r, random_direction(v, seed=2))


def test_relative_norm_is_per_position_for_a_d_vector() -> None:
    acts = torch.zeros(4, 3, 2)
    acts[..., 0] = 2.0  # every position has norm 2
    assert relative_norm(torch.tensor([1.0, 0.0]), acts) == pytest.approx(0.5)
    assert relative_norm(torch.ones(3, 2), acts) == pytest.approx(6**0.5 / 12**0.5)


def test_flip_rate_counts_changed_predictions(transformer: Any) -> None:
    logits = transformer.site("logits")
    before = transformer.outputs().argmax(1)
    assert flip_rate(transformer, logits, torch.zeros(2)) == 0.0
    push = torch.tensor([100.0, -100.0])  # every prediction becomes class 0
    assert flip_rate(transformer, logits, push) == pytest.approx(float((before == 1).double().mean()))
    assert flip_rate(transformer, logits, push, target=0) == 1.0
    assert flip_rate(transformer, logits, push, target=1) == 0.0


def test_flip_rate_toward_a_target_counts_only_inputs_not_already_there() -> None:
    subject = make_subject("transformer", "10k")
    out = subject.outputs()
    with torch.no_grad():  # centre the logit difference so that predictions are mixed
        subject.module.head.bias[1] -= float((out[:, 1] - out[:, 0]).median())
    subject = rewrap(subject)
    out = subject.outputs()
    diff = out[:, 1] - out[:, 0]
    push = torch.tensor([0.0, -float(diff.quantile(0.25))])  # moves only part of class 0 over
    before, after = out.argmax(1), (out + push).argmax(1)
    expected = float(((after == 1) & (before == 0)).sum() / (before == 0).sum())
    assert 0.2 < expected < 0.8 and expected != float((after == 1).double().mean())
    assert flip_rate(subject, subject.site("logits"), push, target=1) == pytest.approx(expected)
    assert flip_rate(subject, subject.site("logits"), push) == pytest.approx(float((after != before).double().mean()))


def test_steering_effect_pushes_toward_the_labelled_class(transformer: Any) -> None:
    site = transformer.site("logits")
    out = transformer.outputs()
    diff = out[:, 1] - out[:, 0]
    other = 1 - int(out.argmax(1).mode().values)
    labels = (diff > diff.median()) if other == 1 else (diff < diff.median())  # v points toward `other`
    v = mean_difference(out, labels)
    scale = 2 * float(diff.abs().max()) / float((v[1] - v[0]).abs())  # enough to beat every margin
    result = steering_effect(transformer, site, labels, scale=scale, seed=3, target=other)
    assert result.flip == 1.0
    torch.testing.assert_close(result.vector, v)
    null = flip_rate(transformer, site, random_direction(v, 3), scale=scale, target=other)
    assert result.random_flip == null
    assert result.relative_norm == pytest.approx(float(v.norm() / out.norm(dim=1).mean()), rel=1e-6)


def test_steering_a_sequence_site_uses_one_direction_for_every_position(transformer: Any) -> None:
    site = transformer.site("hidden", "middle")
    labels = transformer.data.latents["parity"]
    result = steering_effect(transformer, site, labels, scale=0.0)
    assert result.vector.shape == (transformer.activations(site).shape[-1],)
    assert result.flip == 0.0 and result.random_flip == 0.0  # scale 0 changes nothing
