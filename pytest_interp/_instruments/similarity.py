"""Representation similarity: linear CKA (Kornblith et al. 2019) and layer matching across seeds.

CKA(X, Y) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) with linear kernels K = X X^T, L = Y Y^T.
Invariant to orthogonal transforms and isotropic scaling of either side, and to offsets
(features are centered). The plain estimator is biased upward when width is large next to
n; the debiased one uses the unbiased HSIC estimator of Song et al. (2012), as in
Nguyen et al. (2021) — prefer it when width exceeds about n/5 (PILOTS.md).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch


def _features(x: torch.Tensor) -> torch.Tensor:
    """(n, ...) -> (n, features) in float64, columns centered."""
    f = x.detach().reshape(x.shape[0], -1).double()
    return f - f.mean(0, keepdim=True)


def hsic(k: torch.Tensor, l: torch.Tensor) -> float:
    """Biased HSIC: tr(K H L H) / (n - 1)^2, H the centering matrix (Gretton et al. 2005)."""
    n = k.shape[0]
    h = torch.eye(n, dtype=torch.float64, device=k.device) - 1.0 / n
    return float(torch.trace(k.double() @ h @ l.double() @ h) / (n - 1) ** 2)


def hsic_unbiased(k: torch.Tensor, l: torch.Tensor) -> float:
    """Unbiased HSIC (Song et al. 2012), K~ and L~ with zero diagonals:

    [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3)).
    """
    n = k.shape[0]
    if n < 4:
        raise ValueError("the unbiased HSIC estimator needs at least 4 examples")
    kt = k.double().clone().fill_diagonal_(0)
    lt = l.double().clone().fill_diagonal_(0)
    ks, ls = kt.sum(0), lt.sum(0)  # row sums (symmetric)
    term = (kt * lt).sum() + ks.sum() * ls.sum() / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * (ks @ ls)
    return float(term / (n * (n - 3)))


def linear_cka(x: torch.Tensor, y: torch.Tensor, *, debiased: bool = False) -> float:
    """Linear CKA between two activations on the same n inputs, (n, ...) each.

    In [0, 1]; the debiased estimate can stray slightly outside it on small samples.
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"CKA compares the same inputs: {x.shape[0]} vs {y.shape[0]} rows")
    fx, fy = _features(x), _features(y)
    if debiased:
        k, l = fx @ fx.T, fy @ fy.T
        xy, xx, yy = hsic_unbiased(k, l), hsic_unbiased(k, k), hsic_unbiased(l, l)
    else:  # feature-space form: ||Y'X||_F^2 / (||X'X||_F ||Y'Y||_F), no n x n matrices
        xy = float(torch.linalg.matrix_norm(fy.T @ fx) ** 2)
        xx = float(torch.linalg.matrix_norm(fx.T @ fx))
        yy = float(torch.linalg.matrix_norm(fy.T @ fy))
        return xy / (xx * yy) if xx > 0 and yy > 0 else 0.0
    if xx <= 0 or yy <= 0:
        return 0.0
    return xy / math.sqrt(xx * yy)


def cka_matrix(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor], *, debiased: bool = False) -> torch.Tensor:
    """CKA between every layer of `a` (rows) and every layer of `b` (columns)."""
    return torch.tensor([[linear_cka(x, y, debiased=debiased) for y in b] for x in a], dtype=torch.float64)


def layer_match_accuracy(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor], *, debiased: bool = False) -> float:
    """Fraction of layers i of `a` whose best CKA match in `b` is layer i (Kornblith et al. 2019, sec. 6.1)."""
    if len(a) != len(b) or not a:
        raise ValueError(f"layer matching needs two equally long, non-empty lists ({len(a)} vs {len(b)})")
    best = cka_matrix(a, b, debiased=debiased).argmax(1)
    return float((best == torch.arange(len(a))).double().mean())
