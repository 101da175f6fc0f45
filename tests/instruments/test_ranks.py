"""Spearman's rho between maps: analytic cases, ties, masks, and rows without a correlation."""

from __future__ import annotations

import math

import pytest
import torch

from pytest_interp._instruments import fractional_ranks, spearman


def test_ties_share_their_average_rank() -> None:
    assert fractional_ranks(torch.tensor([10.0, 20.0, 10.0, 30.0, 10.0])).tolist() == [1.0, 3.0, 1.0, 4.0, 1.0]
    assert fractional_ranks(torch.tensor([3.0, 1.0, 2.0])).tolist() == [2.0, 0.0, 1.0]


def test_monotone_maps_correlate_perfectly_and_reversed_ones_negatively() -> None:
    a = torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(spearman(a, a.exp() * 3 + 1), torch.ones(4, dtype=torch.float64))
    assert torch.allclose(spearman(a, -a**3), -torch.ones(4, dtype=torch.float64))


def test_a_hand_computed_case_with_ties() -> None:
    # x ranks (0, 1.5, 1.5, 3), y ranks (0, 2, 1, 3): centred (-1.5, 0, 0, 1.5) and (-1.5, .5, -.5, 1.5)
    # rho = 4.5 / sqrt(4.5 * 5) = sqrt(0.9)
    rho = spearman(torch.tensor([[1.0, 2.0, 2.0, 5.0]]), torch.tensor([[0.0, 7.0, 3.0, 9.0]]))
    assert rho.item() == pytest.approx(math.sqrt(0.9), abs=1e-12)


def test_the_mask_keeps_only_the_chosen_positions() -> None:
    # off the mask the maps disagree completely; on it they agree
    a = torch.tensor([[1.0, 2.0, 3.0, 0.0, 0.0, 0.0]])
    b = torch.tensor([[1.0, 2.0, 3.0, 9.0, 8.0, 7.0]])
    mask = torch.tensor([[True, True, True, False, False, False]])
    assert spearman(a, b, mask=mask).item() == pytest.approx(1.0)
    assert spearman(a, b).item() < 0.5


def test_rows_without_a_correlation_are_nan() -> None:
    a = torch.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    b = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    mask = torch.tensor([[True] * 3, [True] * 3, [True, False, False]])
    rho = spearman(a, b, mask=mask)
    assert math.isnan(rho[0]) and rho[1] == pytest.approx(1.0) and math.isnan(rho[2])


def test_shapes_must_agree() -> None:
    with pytest.raises(ValueError, match="one shape"):
        spearman(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="the mask"):
        spearman(torch.zeros(2, 3), torch.zeros(2, 3), mask=torch.ones(2, 2, dtype=torch.bool))


def test_agrees_with_scipy_on_random_maps_with_ties() -> None:
    stats = pytest.importorskip("scipy.stats")
    g = torch.Generator().manual_seed(1)
    a = torch.randint(0, 5, (3, 40), generator=g).double()
    b = a + torch.randint(0, 4, (3, 40), generator=g).double()
    ours = spearman(a, b)
    for i in range(3):
        assert ours[i].item() == pytest.approx(stats.spearmanr(a[i].numpy(), b[i].numpy())[0], abs=1e-12)
