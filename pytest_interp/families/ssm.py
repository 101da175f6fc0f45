"""`ssm`: a selective diagonal state-space model (Mamba-like, Gu & Dao 2023) in plain torch.

Each block is pre-LN and residual: x + Mixer(LN(x)), then x + MLP(LN(x)) with a GELU MLP
of width 2d. The mixer, as in Mamba, projects to u and a gate z (e = 2d channels each),
runs u through a causal depthwise convolution (kernel 4) and SiLU, then a diagonal scan
with a state of size N per channel whose step size dt_t, input vector B_t and readout
vector C_t depend on the input (the "selection"); each channel has one decay rate
(Mamba-2 style, so the decay costs e, not e*N, per step):
    h_t = a_t * h_{t-1} + dt_t * u_t * B_t,   a_t = max(exp(-dt_t * exp(A_log)), 0.01),
    y_t = <C_t, h_t> + D * u_t,               out = W_out (y * silu(z)).
The per-step decay is clamped at 0.01 (PILOTS.md: needed for stability). The scan runs
sequentially over time and in parallel over batch, channels and state.

Size rule: 2 blocks below 300k parameters, 3 from 300k (one block of d=8 missed parity
at 1k where two blocks of d=5 learned it); state size N = 4 below d=32, 8 below d=128,
else 16; step-size rank ceil(d/16); d is the width nearest the target. Inputs as in the recurrent families (rows of an image are steps, no position
embeddings); "class" reads the last step through the final LayerNorm, "position" every
step (causal). Sites: `hidden` is the residual stream after each block at every step,
`mlp` the GELU output inside each block.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..sites import SiteRule
from ..tasks.base import InputSpec
from .base import Family
from .inputs import SequenceEmbed
from .transformer import FeedForward

#: The smallest per-step decay a_t (PILOTS.md: the scan is unstable without a floor).
MIN_DECAY = 0.01


def state_size(d: int) -> int:
    return 4 if d < 32 else 8 if d < 128 else 16


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
        t = x.shape[1]
        u, z = self.in_proj(x).chunk(2, dim=-1)
        u = F.silu(self._causal_conv(u))
        dt_low, b, c = self.x_proj(u).split([self.rank, self.d_state, self.d_state], dim=-1)
        dt = F.softplus(self.dt_proj(dt_low))  # (batch, steps, e)
        decay = torch.exp(dt * -torch.exp(self.A_log)).clamp(min=MIN_DECAY).unsqueeze(-1)  # (b, t, e, 1)
        drive = (dt * u).unsqueeze(-1) * b.unsqueeze(2)  # (b, t, e, N)
        h = torch.zeros_like(drive[:, 0])
        ys = []
        # unbind, not [:, t]: indexing's backward writes a full-size zero tensor per step.
        for a_t, drive_t, c_t in zip(decay.unbind(1), drive.unbind(1), c.unbind(1)):
            h = a_t * h + drive_t
            ys.append((h * c_t.unsqueeze(1)).sum(-1))
        y = torch.stack(ys, dim=1) + u * self.D
        return self.out_proj(y * F.silu(z))

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
    outputs = ("class", "position")
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
