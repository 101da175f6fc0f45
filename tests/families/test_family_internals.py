"""Family internals the pilots warned about: the SSM scan and its decay floor, the LSTM forget bias."""

from __future__ import annotations

import pytest
import torch

from pytest_interp._families.recurrent import RecurrentLayer
from pytest_interp._families.ssm import CHUNK, MIN_DECAY, SelectiveScan, selective_scan, sequential_scan


def _closed_form(decay: torch.Tensor, v: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """y_t = <C_t, sum_{s<=t} (prod_{s<r<=t} a_r) v_s B_s>, written out directly."""
    bsz, t, e = v.shape
    want = torch.zeros(bsz, t, e, dtype=v.dtype)
    for i in range(t):
        h = torch.zeros(bsz, e, b.shape[-1], dtype=v.dtype)
        for s in range(i + 1):
            h += (torch.prod(decay[:, s + 1 : i + 1], dim=1) * v[:, s]).unsqueeze(-1) * b[:, s].unsqueeze(1)
        want[:, i] = (h * c[:, i].unsqueeze(1)).sum(-1)
    return want


def _scan_inputs(t: int, floor: float, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(t)
    decay = torch.rand(2, t, 3, generator=g, dtype=dtype) * (1 - floor) + floor
    return (decay, *(torch.randn(2, t, *shape, generator=g, dtype=dtype) for shape in ((3,), (4,), (4,))))


@pytest.mark.parametrize("steps", [1, CHUNK, CHUNK + 1, 3 * CHUNK + 2])
def test_selective_scan_matches_the_closed_form(steps: int) -> None:
    """The chunked scan, across chunk boundaries, equals the recurrence written out (float64)."""
    args = _scan_inputs(steps, 0.5, torch.float64)
    want = _closed_form(*args)
    assert torch.allclose(sequential_scan(*args), want, atol=1e-10)
    assert torch.allclose(selective_scan(*args), want, atol=1e-10)


def test_chunked_scan_stays_finite_and_close_at_the_decay_floor_in_float32() -> None:
    """Every decay at MIN_DECAY is the chunked form's worst case (largest e^-L); it must not overflow."""
    decay, v, b, c = _scan_inputs(3 * CHUNK, 0.5, torch.float32)
    decay = torch.full_like(decay, MIN_DECAY)
    for leaf in (decay, v, b, c):
        leaf.requires_grad_(True)
    fast, slow = selective_scan(decay, v, b, c), sequential_scan(decay, v, b, c)
    assert torch.isfinite(fast).all() and torch.allclose(fast, slow, rtol=1e-4, atol=1e-5)
    grads = torch.autograd.grad(fast.sum(), (decay, v, b, c))
    want = torch.autograd.grad(slow.sum(), (decay, v, b, c))
    for got, ref in zip(grads, want):
        assert torch.isfinite(got).all() and torch.allclose(got, ref, rtol=1e-3, atol=1e-4 * float(ref.abs().max()))


def test_scan_decay_is_floored_and_stays_finite() -> None:
    """With huge decay rates every step's decay would underflow to 0; it is clamped at MIN_DECAY."""
    torch.manual_seed(0)
    scan = SelectiveScan(d=8, d_state=4)
    with torch.no_grad():
        scan.A_log.fill_(20.0)
        scan.dt_proj.bias.fill_(5.0)
    x = torch.randn(3, 40, 8)
    decay = scan.selection(x)[2]
    assert decay.min() >= MIN_DECAY and torch.isclose(decay.min(), torch.tensor(MIN_DECAY))
    out = scan(x)
    out.sum().backward()
    assert torch.isfinite(out).all()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in scan.parameters())


def test_scan_is_causal() -> None:
    torch.manual_seed(0)
    scan = SelectiveScan(d=8, d_state=4)
    x = torch.randn(2, 10, 8)
    y = x.clone()
    y[:, 6] += 1.0
    with torch.no_grad():
        a, b = scan(x), scan(y)
    assert torch.equal(a[:, :6], b[:, :6]) and not torch.allclose(a[:, 6:], b[:, 6:])


def test_lstm_forget_gate_bias_starts_at_plus_one() -> None:
    """PILOTS.md: forget-gate bias +1 is what lets SGD train the LSTM (gate order i, f, g, o)."""
    torch.manual_seed(0)
    d = 64
    params = dict(RecurrentLayer("lstm", d).rnn.named_parameters())
    total = (params["bias_ih_l0"] + params["bias_hh_l0"]).detach()
    forget, others = total[d : 2 * d], torch.cat([total[:d], total[2 * d :]])
    assert 0.9 < float(forget.mean()) < 1.1 and abs(float(others.mean())) < 0.1
