"""Structure metrics on data whose answer is known: Gaussian kurtosis, planted Fourier and superposition."""

from __future__ import annotations

import math

import pytest
import torch

from pytest_interp._instruments import (
    fourier_concentration, kurtosis, kurtosis_rms, random_rotation, rotate, superposition,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_kurtosis_of_gaussian_values_is_about_three() -> None:
    acts = torch.randn(64, 32, 256, generator=_gen(0))  # (batch, positions, d): every token counts
    assert kurtosis(acts) == pytest.approx(3.0, abs=0.1)


def test_kurtosis_ignores_each_tokens_offset_and_scale() -> None:
    acts = torch.randn(500, 64, generator=_gen(9))
    moved = 3.0 * acts + torch.randn(500, 1, generator=_gen(10)) * 5  # a different offset per token
    assert kurtosis(moved) == pytest.approx(kurtosis(acts), rel=1e-9)


def test_kurtosis_of_other_distributions() -> None:
    signs = torch.randint(0, 2, (1000, 512), generator=_gen(1)).double() * 2 - 1
    assert kurtosis(signs) == pytest.approx(1.0, abs=0.05)  # Rademacher (up to the per-token mean)
    uniform = torch.rand(2000, 256, generator=_gen(2))
    assert kurtosis(uniform) == pytest.approx(1.8, abs=0.05)
    spiky = torch.randn(2000, 48, generator=_gen(3))
    spiky[:, 0] *= 30  # one outlier dimension dominates every token
    assert kurtosis(spiky) > 20


def test_rms_kurtosis_is_one_without_outlier_dimensions_and_high_with_them() -> None:
    acts = torch.randn(4000, 48, generator=_gen(4))
    assert kurtosis_rms(acts) == pytest.approx(1.0, abs=0.02)
    acts[:, :2] *= 10  # s^2 = 100 on 2 dims, 1 on 46
    expected = ((46 + 2 * 100**2) / 48) / ((46 + 2 * 100) / 48) ** 2
    assert kurtosis_rms(acts) == pytest.approx(expected, rel=0.05)
    assert kurtosis_rms(rotate(acts, seed=0)) < 0.5 * expected  # a random basis has no privileged dims


def test_random_rotation_is_orthogonal_and_seeded() -> None:
    q = random_rotation(12, seed=5)
    torch.testing.assert_close(q @ q.T, torch.eye(12, dtype=torch.float64))
    assert torch.equal(q, random_rotation(12, seed=5)) and not torch.equal(q, random_rotation(12, seed=6))
    x = torch.randn(7, 12, generator=_gen(6))
    torch.testing.assert_close(rotate(x, 5).norm(dim=1), x.double().norm(dim=1))


def planted_fourier(p: int, d: int, freqs: list[int], noise: float, seed: int) -> torch.Tensor:
    t = torch.arange(p, dtype=torch.float64)
    g = _gen(seed)
    cols = []
    for f in freqs:
        cols += [torch.cos(2 * math.pi * f * t / p), torch.sin(2 * math.pi * f * t / p)]
    basis = torch.stack(cols, 1)  # (p, 2k)
    mix = torch.randn(len(cols), d, generator=g, dtype=torch.float64)
    return basis @ mix + noise * torch.randn(p, d, generator=g, dtype=torch.float64)


def test_a_planted_sparse_fourier_embedding_is_detected_with_its_frequencies() -> None:
    emb = planted_fourier(53, 32, [9, 14], noise=0.02, seed=0)
    result = fourier_concentration(emb, k=2)
    assert result.share > 0.99
    assert sorted(result.frequencies) == [9, 14]
    assert float(result.power.sum()) == pytest.approx(float(emb.pow(2).sum()), rel=1e-10)  # Parseval


def test_fourier_share_of_random_and_constant_embeddings() -> None:
    rand = torch.randn(53, 64, generator=_gen(7))
    assert 0.15 < fourier_concentration(rand, k=5).share < 0.35  # about 5 of 26 frequencies
    const = torch.ones(53, 8)
    assert fourier_concentration(const).share == pytest.approx(0.0, abs=1e-12)  # all in DC, which never counts


def test_fourier_parseval_with_an_even_number_of_tokens() -> None:
    emb = torch.randn(64, 5, generator=_gen(8), dtype=torch.float64)  # has a Nyquist frequency
    result = fourier_concentration(emb, k=3)
    assert float(result.power.sum()) == pytest.approx(float(emb.pow(2).sum()), rel=1e-10)
    assert len(result.power) == 33


def test_superposition_on_planted_weights() -> None:
    w = torch.zeros(20, 5)
    w[:5] = torch.eye(5)  # 5 orthogonal features, 15 dropped
    result = superposition(w)
    assert result.represented == 5
    torch.testing.assert_close(result.dimensionality, torch.tensor([1.0] * 5 + [0.0] * 15, dtype=torch.float64))

    angles = 2 * math.pi * torch.arange(5, dtype=torch.float64) / 5
    pentagon = torch.stack([angles.cos(), angles.sin()], 1)  # 5 features in 2 dimensions
    torch.testing.assert_close(superposition(pentagon).dimensionality, torch.full((5,), 2 / 5, dtype=torch.float64))

    antipodal = torch.tensor([[1.0], [-1.0], [0.3]])  # a pair sharing one dimension, and a weak feature
    pair = superposition(antipodal)
    assert pair.represented == 2
    assert pair.dimensionality[:2].tolist() == pytest.approx([1 / (2 + 0.09)] * 2)
    assert superposition(antipodal.T, feature_axis=1).represented == 2  # the paper's m x n layout
