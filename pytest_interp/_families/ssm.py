"""`ssm`: a selective diagonal state-space model (Mamba-like, Gu & Dao 2023) in plain torch.

Each block is pre-LN and residual: x + Mixer(LN(x)), then x + MLP(LN(x)) with a GELU MLP
of width 2d. The mixer, as in Mamba, projects to u and a gate z (e = 2d channels each),
runs u through a causal depthwise convolution (kernel 4) and SiLU, then a diagonal scan
with a state of size N per channel whose step size dt_t, input vector B_t and readout
vector C_t depend on the input (the "selection"); each channel has one decay rate shared
by its N state entries (as Mamba-2 shares one per head), which allows the chunked form:
    h_t = a_t * h_{t-1} + dt_t * u_t * B_t,   a_t = max(exp(-dt_t * exp(A_log)), 0.01),
    y_t = <C_t, h_t> + D * u_t,               out = W_out (y * silu(z)).
The per-step decay is clamped at 0.01 (PILOTS.md: needed for stability). The scan is
computed in chunks of 13 steps with two batched matmuls each (`selective_scan`) and
checked against a step-by-step loop (`sequential_scan`).

Size rule: 2 blocks below 300k parameters, 3 from 300k (one block of d=8 missed parity
at 1k where two blocks of d=5 learned it); state size N = 4 below d=32, 8 below d=128,
else 16; step-size rank ceil(d/16); d is the width nearest the target.
Inputs as in the recurrent families (rows of an image are steps, no position embeddings);
"class" and "vector" read the last step through the final LayerNorm, "position" every
step (causal). Sites: `hidden` is the residual stream after each block at every step,
`mlp` the GELU output inside each block.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._sites import SiteRule
from .._tasks.base import InputSpec
from .base import Family
from .inputs import SequenceEmbed
from .transformer import FeedForward

#: The smallest per-step decay a_t (PILOTS.md: the scan is unstable without a floor).
MIN_DECAY = 0.01


def state_size(d: int) -> int:
    return 4 if d < 32 else 8 if d < 128 else 16


#: Steps per chunk of the parallel scan: within a chunk exp(-cumulative log decay) stays
#: below e^60 (float32 overflows near e^88), whatever the decays, given the floor.
CHUNK = max(1, int(60 // -math.log(MIN_DECAY)))


def selective_scan(decay: torch.Tensor, v: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """y_t = <C_t, h_t>, h_t = a_t * h_{t-1} + v_t * B_t (h_0 = 0), in chunks of CHUNK steps.

    decay a (batch, t, e), v (batch, t, e), B and C (batch, t, N) -> (batch, t, e). Within a
    chunk, with L_t the cumulative log decay, y_t = e^{L_t} sum_{s<=t} (C_t.B_s) e^{-L_s} v_s:
    two batched matmuls instead of a step loop (3x faster than `sequential_scan` at 10
    steps on CPU); the state is carried from chunk to chunk.
    """
    bsz, t, e = v.shape
    log_decay = torch.log(decay)
    h = v.new_zeros(bsz, e, b.shape[-1])
    outs = []
    for i in range(0, t, CHUNK):
        cum = log_decay[:, i : i + CHUNK].cumsum(1)  # (batch, k, e), non-increasing
        vv, bb, cc = v[:, i : i + CHUNK], b[:, i : i + CHUNK], c[:, i : i + CHUNK]
        gram = torch.bmm(cc, bb.transpose(1, 2)).tril()  # C_t . B_s for s <= t
        y = torch.bmm(gram, torch.exp(-cum) * vv) + torch.bmm(cc, h.transpose(1, 2))
        outs.append(y * torch.exp(cum))
        end = cum[:, -1:]
        h = torch.exp(end[:, 0]).unsqueeze(-1) * h + torch.einsum("bse,bsn->ben", torch.exp(end - cum) * vv, bb)
    return torch.cat(outs, dim=1)


def sequential_scan(decay: torch.Tensor, v: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """The same recurrence one step at a time: the reference `selective_scan` is tested against."""
    h = v.new_zeros(v.shape[0], v.shape[2], b.shape[-1])
    ys = []
    for a_t, v_t, b_t, c_t in zip(decay.unbind(1), v.unbind(1), b.unbind(1), c.unbind(1)):
        h = a_t.unsqueeze(-1) * h + v_t.unsqueeze(-1) * b_t.unsqueeze(1)
        ys.append((h * c_t.unsqueeze(1)).sum(-1))
    return torch.stack(ys, dim=1)


class SelectiveScan(nn.Module):
    """Mamba-style mixer: in_proj -> causal depthwise conv -> SiLU -> selective scan, gated by SiLU(z)."""

    def __init__(self, d: int, d_state: int, expand: int = 2, kernel: int = 4) -> None:
        super().__init__()
        e, r = expand * d, max(1, math.ceil(d / 16))
        self.rank, self.d_state, self.kernel = r, d_state, kernel
        self.in_proj = nn.Linear(d, 2 * e)
        self.conv_weight = nn.Parameter(torch.randn(e, kernel) / math.sqrt(kernel))
        self.conv_bias = nn.Parameter(torch.zeros(e))
        self.x_proj = nn.Linear(e, r + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(r, e)
        self.A_log = nn.Parameter(torch.log(torch.linspace(1.0, 16.0, e)))
        self.D = nn.Parameter(torch.ones(e))
        self.out_proj = nn.Linear(e, d)
        with torch.no_grad():  # initial step sizes log-uniform in [1e-3, 1e-1], as in Mamba
            dt = torch.exp(torch.rand(e) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u, z, decay, v, b, c = self.selection(x)
        y = selective_scan(decay, v, b, c) + u * self.D
        return self.out_proj(y * F.silu(z))

    def selection(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The input-dependent pieces: u, gate z, decay a and v = dt * u (batch, t, e), B and C (batch, t, N)."""
        u, z = self.in_proj(x).chunk(2, dim=-1)
        u = F.silu(self._causal_conv(u))
        dt_low, b, c = self.x_proj(u).split([self.rank, self.d_state, self.d_state], dim=-1)
        dt = F.softplus(self.dt_proj(dt_low))  # (batch, steps, e)
        decay = torch.exp(dt * -torch.exp(self.A_log)).clamp(min=MIN_DECAY)
        return u, z, decay, dt * u, b.contiguous(), c.contiguous()

    def _causal_conv(self, u: torch.Tensor) -> torch.Tensor:
        """Depthwise causal convolution over steps as shifted sums (faster on CPU than a grouped Conv1d)."""
        out = u * self.conv_weight[:, -1] + self.conv_bias
        for k in range(1, min(self.kernel, u.shape[1])):
            out = out + F.pad(u[:, :-k], (0, 0, k, 0)) * self.conv_weight[:, -1 - k]
        return out


class SSMBlock(nn.Module):
    def __init__(self, d: int, d_state: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.scan = SelectiveScan(d, d_state)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = FeedForward(d, 2 * d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.scan(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class SSMNet(nn.Module):
    def __init__(self, spec: InputSpec, d: int, depth: int, d_state: int) -> None:
        super().__init__()
        self.per_position = spec.output == "position"
        self.embed = SequenceEmbed(spec, d, positions=False, images="rows")
        self.blocks = nn.ModuleList(SSMBlock(d, d_state) for _ in range(depth))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, spec.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        h = self.ln_f(h)
        return self.head(h if self.per_position else h[:, -1])


class SSM(Family):
    name = "ssm"
    modalities = ("tokens", "vectors", "images")
    outputs = ("class", "vector", "position")
    sites = {
        "embed": SiteRule("embed"),
        "hidden": SiteRule("blocks.{i}", repeat="blocks"),
        "mlp": SiteRule("blocks.{i}.mlp.act", repeat="blocks"),
        "logits": SiteRule("head"),
    }

    def candidates(self, target: int, spec: InputSpec) -> Sequence[dict[str, Any]]:
        depth = 2 if target < 300_000 else 3
        return [{"d": d, "depth": depth, "d_state": state_size(d)} for d in range(2, 1025)]

    def build(self, config: dict[str, Any], spec: InputSpec) -> nn.Module:
        return SSMNet(spec, config["d"], config["depth"], config["d_state"])
