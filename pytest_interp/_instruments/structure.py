"""Structure metrics: privileged basis, Fourier features, superposition.

- kurtosis_rms (He et al. 2024): s_i = RMS of dimension i over tokens; mean(s^4) / mean(s^2)^2.
  1 when every dimension has the same scale, large with a few outlier dimensions.
- kurtosis: per token, m4 / m2^2 of its values across dimensions (Pearson, not excess:
  3 for Gaussian values), averaged over tokens.
  Compare both with the same metric after `random_rotation` (no privileged basis).
- fourier_concentration (Nanda et al. 2023): share of an embedding's squared norm in its
  top-k frequencies of a real DFT along the token axis, the DC term counted in the total.
- superposition (Elhage et al. 2022): D_i = ||W_i||^2 / sum_j (W^_i . W_j)^2 per feature,
  and the number of features with ||W_i|| > 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def _tokens(acts: torch.Tensor) -> torch.Tensor:
    """(..., d) -> (tokens, d) float64: every leading axis counts as tokens."""
    return acts.detach().reshape(-1, acts.shape[-1]).double()


def kurtosis_rms(acts: torch.Tensor) -> float:
    """He et al. kurtosis over dimensions of the per-dimension RMS: mean(s^4) / mean(s^2)^2."""
    s2 = _tokens(acts).pow(2).mean(0)  # s_i^2
    return float(s2.pow(2).mean() / s2.mean().pow(2))


def kurtosis(acts: torch.Tensor) -> float:
    """Mean over tokens of the kurtosis of each token's values across dimensions (Gaussian: 3)."""
    a = _tokens(acts)
    c = a - a.mean(1, keepdim=True)
    m2, m4 = c.pow(2).mean(1), c.pow(4).mean(1)
    keep = m2 > 0
    return float((m4[keep] / m2[keep].pow(2)).mean())


def random_rotation(d: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A Haar-random d x d orthogonal matrix (QR of a Gaussian, signs fixed by R's diagonal)."""
    g = torch.randn(d, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    q, r = torch.linalg.qr(g)
    return (q * torch.sign(torch.diagonal(r))).to(dtype)


def rotate(acts: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Activations in a random orthonormal basis of their last axis: the no-privileged-basis null."""
    return acts.detach().double() @ random_rotation(acts.shape[-1], seed).to(acts.device)


@dataclass(frozen=True)
class Fourier:
    """Share of squared norm in the top-k non-DC frequencies, those frequencies (strongest first), all powers."""

    share: float
    frequencies: list[int]
    power: torch.Tensor


def fourier_concentration(embedding: torch.Tensor, k: int = 5) -> Fourier:
    """Top-k frequency share of ||E||^2 for E (p tokens, d), real DFT along the token axis.

    power_f = c_f |rfft(E)_f|^2 / p summed over d, with c_f = 2 for the conjugate-paired
    frequencies (0 < f < p/2) and 1 for DC and Nyquist, so sum_f power_f = ||E||_F^2
    (Parseval). DC (f = 0) is in the total but never among the top k: a constant offset
    is not a Fourier feature.
    """
    e = embedding.detach().double()
    p = e.shape[0]
    spectrum = torch.fft.rfft(e, dim=0)
    power = spectrum.abs().pow(2).sum(1) / p
    power[1 : (p + 1) // 2] *= 2  # frequencies whose conjugate twin the real DFT omits
    total = float(power.sum())
    if total <= 0:
        raise ValueError("the embedding is all zeros")
    k = min(k, len(power) - 1)
    top = torch.argsort(power[1:], descending=True, stable=True)[:k] + 1
    return Fourier(float(power[top].sum()) / total, [int(f) for f in top], power)


@dataclass(frozen=True)
class Superposition:
    """Per-feature dimensionality D_i, feature norms ||W_i||, and how many are represented."""

    dimensionality: torch.Tensor
    norms: torch.Tensor
    represented: int


def superposition(w: torch.Tensor, *, feature_axis: int = 0, threshold: float = 0.5) -> Superposition:
    """D_i = ||W_i||^2 / sum_j (W^_i . W_j)^2 for the feature vectors W_i of `w`.

    w: (features, dims) by default, as in the toy model's W of shape (n_features, m);
    feature_axis=1 for the paper's m x n notation. A zero feature has D_i = 0.
    """
    f = w.detach().double()
    f = f if feature_axis == 0 else f.T
    norms = f.norm(dim=1)
    unit = f / norms.clamp_min(1e-12)[:, None]
    overlap = (unit @ f.T).pow(2).sum(1)  # sum_j (W^_i . W_j)^2, includes j = i
    dim = torch.where(norms > 0, norms.pow(2) / overlap.clamp_min(1e-300), torch.zeros_like(norms))
    return Superposition(dim, norms, int((norms > threshold).sum()))
