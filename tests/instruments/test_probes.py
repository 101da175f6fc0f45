"""Probes recover a planted linear feature and score chance on an unrelated one."""

from __future__ import annotations

import pytest
import torch

from pytest_interp._instruments import logistic_probe, ridge_probe


def _gaussian(n: int, d: int, seed: int) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_logistic_probe_recovers_a_planted_linear_feature() -> None:
    x = _gaussian(600, 12, 0)
    w = _gaussian(12, 1, 1).squeeze(1)
    labels = (x @ w > 0).long()
    assert logistic_probe(x, labels) >= 0.95


def test_logistic_probe_is_at_chance_on_unrelated_labels() -> None:
    x = _gaussian(600, 12, 0)
    labels = torch.randint(0, 2, (600,), generator=torch.Generator().manual_seed(5))
    assert 0.35 <= logistic_probe(x, labels) <= 0.65


def test_logistic_probe_multiclass_and_site_shaped_activations() -> None:
    x = _gaussian(900, 4, 2)
    labels = x[:, :3].argmax(1)  # three classes, linear decision regions
    acts = torch.cat([x, _gaussian(900, 4, 3)], 1).reshape(900, 2, 4)  # (n, positions, d) is flattened
    assert logistic_probe(acts, labels) >= 0.9


def test_logistic_probe_is_deterministic() -> None:
    x = _gaussian(300, 8, 4)
    labels = (x[:, 0] + 0.5 * torch.randn(300, generator=torch.Generator().manual_seed(6)) > 0).long()
    assert logistic_probe(x, labels, seed=3) == logistic_probe(x, labels, seed=3)


def test_ridge_probe_recovers_a_planted_linear_target() -> None:
    x = _gaussian(500, 10, 7)
    w = _gaussian(10, 2, 8)
    noise = 0.01 * _gaussian(500, 2, 9)
    assert ridge_probe(x, x @ w + noise) >= 0.99


def test_ridge_probe_scores_about_zero_on_noise() -> None:
    x = _gaussian(500, 10, 7)
    assert ridge_probe(x, _gaussian(500, 1, 10).squeeze(1)) <= 0.1


def test_probes_reject_bad_input() -> None:
    x = _gaussian(10, 3, 0)
    with pytest.raises(ValueError):
        logistic_probe(x, torch.zeros(9, dtype=torch.long))
    with pytest.raises(ValueError):
        ridge_probe(x, torch.zeros(10), test_fraction=1.5)
