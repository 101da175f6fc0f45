"""Linear CKA: invariances (hypothesis), the unbiased HSIC against its definition, layer matching."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_interp._instruments import cka_matrix, hsic, hsic_unbiased, layer_match_accuracy, linear_cka, random_rotation


def gaussian(n: int, d: int, seed: int) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


shapes = st.tuples(st.integers(6, 40), st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**31 - 1))
fast = settings(max_examples=40, deadline=None)


@fast
@given(shapes, st.booleans())
def test_cka_of_a_representation_with_itself_is_one(shape: tuple[int, int, int, int], debiased: bool) -> None:
    n, p, _, seed = shape
    x = gaussian(n, p, seed)
    assert linear_cka(x, x, debiased=debiased) == pytest.approx(1.0, abs=1e-9)


@fast
@given(shapes, st.floats(1e-3, 1e3), st.booleans())
def test_cka_is_invariant_to_orthogonal_maps_isotropic_scaling_and_offsets(
    shape: tuple[int, int, int, int], scale: float, debiased: bool,
) -> None:
    n, p, q, seed = shape
    x, y = gaussian(n, p, seed), gaussian(n, q, seed + 1) + 0.5 * gaussian(n, p, seed)[:, :1]
    base = linear_cka(x, y, debiased=debiased)
    moved = scale * x @ random_rotation(p, seed) + 3.0
    assert linear_cka(moved, y, debiased=debiased) == pytest.approx(base, abs=1e-9)


@fast
@given(shapes, st.booleans())
def test_cka_is_symmetric_and_bounded(shape: tuple[int, int, int, int], debiased: bool) -> None:
    n, p, q, seed = shape
    x, y = gaussian(n, p, seed), gaussian(n, q, seed + 7)
    assert linear_cka(x, y, debiased=debiased) == pytest.approx(linear_cka(y, x, debiased=debiased), abs=1e-12)
    if not debiased:
        assert -1e-12 <= linear_cka(x, y) <= 1 + 1e-12


def test_cka_is_not_invariant_to_anisotropic_scaling() -> None:
    # guards the invariance tests: they would also pass if CKA ignored its inputs
    x, y = gaussian(50, 4, 0), gaussian(50, 4, 1) + gaussian(50, 4, 0)
    stretched = x * torch.tensor([10.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    assert abs(linear_cka(stretched, y) - linear_cka(x, y)) > 0.01


def test_plain_cka_equals_the_hsic_form() -> None:
    x, y = gaussian(30, 5, 2), gaussian(30, 7, 3)
    k, l = x @ x.T, y @ y.T
    expected = hsic(k, l) / (hsic(k, k) * hsic(l, l)) ** 0.5
    assert linear_cka(x, y) == pytest.approx(expected, abs=1e-12)


def test_unbiased_hsic_equals_its_u_statistic_definition() -> None:
    """Song et al. 2012: the mean over distinct (i, j, q, r) of K_ij L_ij + K_ij L_qr - 2 K_ij L_iq."""
    n = 7
    k = gaussian(n, 3, 4) @ gaussian(n, 3, 4).T
    y = gaussian(n, 2, 5)
    l = (y @ y.T).abs()  # any symmetric kernel matrices
    terms = [k[i, j] * l[i, j] + k[i, j] * l[q, r] - 2 * k[i, j] * l[i, q]
             for i, j, q, r in itertools.permutations(range(n), 4)]
    assert hsic_unbiased(k, l) == pytest.approx(float(sum(terms) / len(terms)), rel=1e-10)


def test_debiased_cka_removes_the_width_bias() -> None:
    x, y = gaussian(40, 400, 6), gaussian(40, 400, 7)  # independent, width >> n
    assert linear_cka(x, y) > 0.5
    assert abs(linear_cka(x, y, debiased=True)) < 0.1


def test_layer_matching_finds_corresponding_layers() -> None:
    a = [gaussian(60, 10, s) for s in range(4)]
    b = [2.0 * x @ random_rotation(10, i) + 0.01 * gaussian(60, 10, 99 + i) for i, x in enumerate(a)]
    assert layer_match_accuracy(a, b) == 1.0
    assert layer_match_accuracy(a, b[1:] + b[:1]) == 0.0
    m = cka_matrix(a, b)
    assert m.shape == (4, 4) and torch.all(m.diagonal() > 0.99)
    with pytest.raises(ValueError):
        layer_match_accuracy(a, b[:3])
