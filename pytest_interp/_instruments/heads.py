"""Attention head scores for induction heads (Olsson et al. 2022).

- prefix matching: mean attention from each query to the token right after an earlier
  occurrence of the query's token, on repeated random tokens [A A]; the last position is
  left out (its prediction is never trained, PILOTS.md).
- copying score of a head's OV circuit M = W_E W_V W_O W_U: sum Re(lambda) / sum |lambda|
  over M's eigenvalues; 1 for a circuit that maps every token to itself with positive gain.
Weights follow the row-vector convention x @ W (TransformerLens): W_E (vocab, d),
W_V (d, d_head), W_O (d_head, d), W_U (d, vocab). LayerNorms are ignored, as in the paper.
"""

from __future__ import annotations

from typing import Any

import torch

from .._families.transformer import Attention


def repeated_tokens(vocab: int, length: int, batch: int, *, seed: int = 0) -> torch.Tensor:
    """(batch, 2 * length) sequences [A A], A of `length` distinct tokens drawn without replacement."""
    if length > vocab:
        raise ValueError(f"{length} distinct tokens from a vocabulary of {vocab}")
    g = torch.Generator().manual_seed(seed)
    a = torch.stack([torch.randperm(vocab, generator=g)[:length] for _ in range(batch)])
    return torch.cat([a, a], 1)


def prefix_matching_mask(tokens: torch.Tensor) -> torch.Tensor:
    """(batch, query, key) bool: key k follows an earlier occurrence (k - 1 < q) of the query's token."""
    t = tokens.shape[1]
    same = tokens[:, :, None] == tokens[:, None, :]  # [b, q, j]: token q equals token j
    earlier = torch.ones(t, t, dtype=torch.bool, device=tokens.device).tril(-1)  # j < q
    prev = same & earlier
    mask = torch.zeros_like(prev)
    mask[:, :, 1:] = prev[:, :, :-1]  # key k = j + 1
    return mask


def prefix_matching_score(pattern: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Per head: attention (batch, heads, query, key) on the prefix-matching keys, averaged
    over the queries that have an earlier occurrence, the last position excluded."""
    mask = prefix_matching_mask(tokens)
    mask[:, -1, :] = False  # leave the last position out
    queries = mask.any(-1)  # (batch, query)
    if not queries.any():
        raise ValueError("no token repeats: prefix matching is undefined")
    mask, queries = mask.to(pattern.device), queries.to(pattern.device)
    mass = (pattern.double() * mask[:, None].double()).sum(-1)  # (batch, heads, query)
    return (mass * queries[:, None]).sum((0, 2)) / queries.sum()


def prefix_matching(subject: Any, tokens: torch.Tensor) -> dict[tuple[int, int], float]:
    """Prefix-matching score of every (layer, head) of a subject with attn.pattern sites."""
    run = subject.run(tokens)
    out: dict[tuple[int, int], float] = {}
    for site in subject.sites("attn.pattern"):
        for h, score in enumerate(prefix_matching_score(run.activations[site], tokens)):
            out[(site.layer, h)] = float(score)
    return out


def copying_score(w_e: torch.Tensor, w_v: torch.Tensor, w_o: torch.Tensor, w_u: torch.Tensor) -> float:
    """sum Re(lambda) / sum |lambda| for the eigenvalues of W_E W_V W_O W_U (vocab x vocab).

    Computed on the d_head x d_head matrix W_O W_U W_E W_V, which has the same non-zero
    eigenvalues (eig(AB) = eig(BA) up to zeros), so large vocabularies cost nothing.
    """
    if w_e.shape[1] != w_v.shape[0] or w_v.shape[1] != w_o.shape[0] or w_o.shape[1] != w_u.shape[0]:
        raise ValueError(f"shapes do not chain: {tuple(w_e.shape)} {tuple(w_v.shape)} {tuple(w_o.shape)} {tuple(w_u.shape)}")
    if w_u.shape[1] != w_e.shape[0]:
        raise ValueError(f"the OV circuit maps {w_e.shape[0]} tokens to {w_u.shape[1]} outputs: not square")
    e, v, o, u = (m.detach().double() for m in (w_e, w_v, w_o, w_u))
    small = (o @ u) @ (e @ v)
    lam = torch.linalg.eigvals(small)
    total = float(lam.abs().sum())
    if total == 0:
        raise ValueError("the OV circuit is zero")
    return float(lam.real.sum()) / total


def transformer_ov(attn: Attention, head: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(W_V, W_O) of one head of our transformer family's Attention (fused qkv, out projection)."""
    d = attn.out.weight.shape[0]
    dh = d // attn.heads
    rows = slice(2 * d + head * dh, 2 * d + (head + 1) * dh)
    w_v = attn.qkv.weight[rows].T  # (d, d_head): x @ W_V
    w_o = attn.out.weight[:, head * dh : (head + 1) * dh].T  # (d_head, d)
    return w_v.detach(), w_o.detach()
