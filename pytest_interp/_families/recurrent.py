"""What `lstm` and `gru` share: a stack of one-layer recurrent modules with a linear readout.

Size rule: 1 layer below 3k parameters, 2 below 300k, 3 from 300k; every layer has
hidden width d (the input embedding too), the one nearest the target.
Inputs: tokens are looked up, each vector coordinate is one step (its value scales a
learned d-vector), images are read one row per step (a linear map of C*W pixels). No
position embeddings: the recurrence knows the order.
Outputs: "class" and "vector" read the last step of the last layer (the only state that
has seen the whole input); "position" reads every step, causal by construction.

Each layer is its own module whose output, the hidden state h_t at every step
(batch, steps, d), is the `hidden` site: patching it changes every later layer and the
readout. (It does not feed back into the same layer's later steps: torch runs the
recurrence inside one call. The LSTM cell state c_t is not a site.)
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from .._sites import SiteRule
from .._tasks.base import InputSpec
from .base import Family
from .inputs import SequenceEmbed


class RecurrentLayer(nn.Module):
    """One nn.LSTM or nn.GRU layer returning its full output sequence (a tensor, so it hooks plainly)."""

    def __init__(self, kind: str, d: int) -> None:
        super().__init__()
        if kind == "lstm":
            lstm = nn.LSTM(d, d, batch_first=True)
            with torch.no_grad():  # forget-gate bias +1 (gate order i, f, g, o): lets SGD learn, PILOTS.md
                lstm.get_parameter("bias_ih_l0")[d : 2 * d] += 1.0
            self.rnn: nn.RNNBase = lstm
        elif kind == "gru":
            self.rnn = nn.GRU(d, d, batch_first=True)
        else:
            raise ValueError(f"unknown recurrent kind {kind!r}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return out


class RecurrentNet(nn.Module):
    def __init__(self, spec: InputSpec, kind: str, d: int, depth: int) -> None:
        super().__init__()
        self.per_position = spec.output == "position"
        self.embed = SequenceEmbed(spec, d, positions=False, images="rows")
        self.layers = nn.ModuleList(RecurrentLayer(kind, d) for _ in range(depth))
        self.head = nn.Linear(d, spec.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for layer in self.layers:
            h = layer(h)
        return self.head(h if self.per_position else h[:, -1])


class RecurrentFamily(Family):
    """Base of `lstm` and `gru`: subclasses set `name` and `kind`."""

    kind: str
    modalities = ("tokens", "vectors", "images")
    outputs = ("class", "vector", "position")
    sites = {
        "embed": SiteRule("embed"),
        "hidden": SiteRule("layers.{i}", repeat="layers"),
        "logits": SiteRule("head"),
    }

    def candidates(self, target: int, spec: InputSpec) -> Sequence[dict[str, Any]]:
        depth = 1 if target < 3_000 else 2 if target < 300_000 else 3
        return [{"d": d, "depth": depth} for d in range(2, 2049)]

    def build(self, config: dict[str, Any], spec: InputSpec) -> nn.Module:
        return RecurrentNet(spec, self.kind, config["d"], config["depth"])
