"""Rank correlation between maps: Spearman's rho per example (Adebayo et al. 2018 compare saliency maps so).

rho(a, b) = Pearson correlation of the ranks of a and b, ties given their average rank
(the usual "fractional" ranking, as scipy.stats.rankdata's default). Rows are examples; all
other dimensions are flattened. A mask keeps only some positions of each row, e.g. the
non-zero pixels for input-multiplied attributions (x * g is 0 wherever x is 0, whatever the
weights, which inflates the correlation of any two maps).
"""

from __future__ import annotations

import torch


def fractional_ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks 0..n-1 of a 1-D tensor (float64), tied values sharing their average rank."""
    values, inverse, counts = torch.unique(x.detach().reshape(-1), sorted=True, return_inverse=True,
                                           return_counts=True)
    del values
    counts = counts.double()
    start = torch.cumsum(counts, 0) - counts
    return (start + (counts - 1) / 2)[inverse]


def spearman(a: torch.Tensor, b: torch.Tensor, *, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Spearman's rho between a[i] and b[i] for every row i: shape (n,), float64.

    `mask` (bool, the shape of `a`) keeps only the positions where it is True. A row with fewer
    than 2 kept positions, or whose kept values are all equal in `a` or in `b`, has no
    correlation: NaN (use `nanmean` to average, and report how many there were).
    """
    if a.shape != b.shape:
        raise ValueError(f"rank correlation compares maps of one shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    if a.ndim == 0:
        raise ValueError("rank correlation needs a batch dimension")
    fa, fb = a.detach().reshape(a.shape[0], -1), b.detach().reshape(b.shape[0], -1)
    keep = None
    if mask is not None:
        if mask.shape != a.shape:
            raise ValueError(f"the mask has shape {tuple(mask.shape)}, the maps {tuple(a.shape)}")
        keep = mask.detach().reshape(a.shape[0], -1).bool()
    out = torch.full((a.shape[0],), float("nan"), dtype=torch.float64, device=fa.device)
    for i in range(fa.shape[0]):
        x, y = (fa[i], fb[i]) if keep is None else (fa[i][keep[i]], fb[i][keep[i]])
        if x.numel() < 2:
            continue
        rx, ry = fractional_ranks(x), fractional_ranks(y)
        rx, ry = rx - rx.mean(), ry - ry.mean()
        den = torch.sqrt((rx * rx).sum() * (ry * ry).sum())
        if den > 0:
            out[i] = (rx * ry).sum() / den
    return out
