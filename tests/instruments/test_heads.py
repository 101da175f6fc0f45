"""Head scores on planted attention patterns and OV circuits with known eigenvalues."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from pytest_interp._instruments import (
    copying_score, prefix_matching, prefix_matching_score, repeated_tokens, transformer_ov,
)


def test_repeated_tokens_repeat_a_segment_of_distinct_tokens() -> None:
    t = repeated_tokens(vocab=30, length=12, batch=5, seed=1)
    assert t.shape == (5, 24)
    assert torch.equal(t[:, :12], t[:, 12:])
    assert all(len(set(row[:12].tolist())) == 12 for row in t)
    assert torch.equal(t, repeated_tokens(30, 12, 5, seed=1))
    with pytest.raises(ValueError):
        repeated_tokens(vocab=5, length=6, batch=1)


def planted_patterns(batch: int, length: int) -> torch.Tensor:
    """Heads: 0 induction (q -> q - L + 1 in the repeat), 1 previous token, 2 uniform."""
    t = 2 * length
    induction = torch.zeros(t, t)
    induction[0, 0] = 1
    for q in range(1, t):
        induction[q, q - length + 1 if q >= length else q - 1] = 1
    induction[-1] = 0
    induction[-1, 3] = 1  # the last position attends elsewhere: it is left out
    previous = torch.zeros(t, t)
    previous[0, 0] = 1
    previous[torch.arange(1, t), torch.arange(t - 1)] = 1
    uniform = torch.full((t, t), 1 / t)
    return torch.stack([induction, previous, uniform]).expand(batch, 3, t, t)


def test_prefix_matching_scores_planted_heads() -> None:
    length = 8
    tokens = repeated_tokens(20, length, 4, seed=0)
    scores = prefix_matching_score(planted_patterns(4, length), tokens)
    assert scores.tolist() == pytest.approx([1.0, 0.0, 1 / (2 * length)])


def test_prefix_matching_needs_repeats() -> None:
    tokens = torch.arange(6).unsqueeze(0)
    with pytest.raises(ValueError, match="repeat"):
        prefix_matching_score(torch.full((1, 1, 6, 6), 1 / 6), tokens)


def test_prefix_matching_of_every_head_of_a_transformer(transformer: Any) -> None:
    tokens = transformer.data.x[:32]  # bits: plenty of earlier occurrences
    scores = prefix_matching(transformer, tokens)
    assert set(scores) == {(layer, head) for layer in range(2) for head in range(2)}
    assert all(0.0 <= s <= 1.0 for s in scores.values())


def test_head_scores_on_an_attention_only_model(attn_only: Any) -> None:
    tokens = repeated_tokens(vocab=64, length=16, batch=8, seed=0)  # the task's length: 32
    scores = prefix_matching(attn_only, tokens)
    assert len(scores) == 4 and all(0.0 <= s <= 1.0 for s in scores.values())
    net = attn_only.module
    w_e, w_u = net.embed.table.weight.detach(), net.head.weight.detach().T  # (64, d), (d, 64): square
    for layer, block in enumerate(net.blocks):
        for head in range(block.attn.heads):
            w_v, w_o = transformer_ov(block.attn, head)
            lam = torch.linalg.eigvals((w_e @ w_v @ w_o @ w_u).double())
            expected = float(lam.real.sum() / lam.abs().sum())
            assert copying_score(w_e, w_v, w_o, w_u) == pytest.approx(expected, abs=1e-6), (layer, head)


def _ov(vocab: int, d: int, dh: int, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*s, generator=g, dtype=torch.float64) for s in ((vocab, d), (d, dh), (dh, d), (d, vocab)))


def test_copying_score_equals_the_full_vocabulary_eigenvalues() -> None:
    w_e, w_v, w_o, w_u = _ov(vocab=24, d=10, dh=4, seed=0)
    lam = torch.linalg.eigvals(w_e @ w_v @ w_o @ w_u)
    expected = float(lam.real.sum() / lam.abs().sum())
    assert copying_score(w_e, w_v, w_o, w_u) == pytest.approx(expected, abs=1e-8)


def test_copying_score_of_planted_circuits() -> None:
    eye = torch.eye(4, dtype=torch.float64)
    assert copying_score(eye, eye, eye, eye) == pytest.approx(1.0)  # copies every token
    assert copying_score(eye, eye, -eye, eye) == pytest.approx(-1.0)  # suppresses every token
    c, s = math.cos(math.pi / 2), math.sin(math.pi / 2)
    rot = torch.tensor([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, c, -s], [0, 0, s, c]], dtype=torch.float64)
    assert copying_score(eye, rot, eye, eye) == pytest.approx(0.0, abs=1e-12)  # eigenvalues +-i
    with pytest.raises(ValueError, match="square"):
        copying_score(eye, eye, eye, torch.eye(4, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="chain"):
        copying_score(eye, torch.eye(3, dtype=torch.float64), eye, eye)


def test_transformer_ov_reads_the_head_out_of_the_fused_projection(transformer: Any) -> None:
    attn = transformer.module.blocks[0].attn
    d, heads = attn.out.weight.shape[0], attn.heads
    dh = d // heads
    x = torch.randn(3, d, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        v = attn.qkv(x).view(3, 3, heads, dh)[:, 2]  # the model's own value vectors (with bias)
        z = torch.randn(3, heads, dh, generator=torch.Generator().manual_seed(1))
        out = attn.out(z.reshape(3, d)) - attn.out.bias
    total = torch.zeros(3, d)
    for h in range(heads):
        w_v, w_o = transformer_ov(attn, h)
        torch.testing.assert_close(x @ w_v, v[:, h] - attn.qkv.bias.view(3, heads, dh)[2, h])
        total += z[:, h] @ w_o
    torch.testing.assert_close(total, out)
