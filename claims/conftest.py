"""Families the claim library needs beyond the built-in zoo, registered for runs of claims/.

`tied-ae`: the toy model of superposition, x' = ReLU(W^T W x + b) (Elhage et al. 2022), for
claims/test_superposition.py. It is registered here, not built in, because it only fits tasks
that reconstruct their own input (vector outputs, as many as inputs): the built-in families
take every modality with class outputs, and this one cannot.
"""

import torch
from torch import nn

import pytest_interp as interp


class TiedAutoencoder(nn.Module):
    """n features squeezed into m dimensions by W (m x n) and read back by W^T, a bias and a ReLU."""

    def __init__(self, n: int, m: int) -> None:
        super().__init__()
        self.W = nn.Linear(n, m, bias=False)  # the bottleneck h = W x; W.weight's columns are the features
        self.bias = nn.Parameter(torch.zeros(n))
        self.out = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.W(x) @ self.W.weight + self.bias)


class TiedAE(interp.Family):
    """Size rule: m is the width nearest the parameter target (m * n + n parameters), at most n/4
    (the paper's 20 features -> 5 dimensions), so it stays a bottleneck: with n = 20 every target
    from 120 parameters up gives m = 5, and the report's size note says so.
    Sites: `hidden` is the bottleneck W x, `logits` the reconstruction."""

    name = "tied-ae"
    modalities = ("vectors",)
    outputs = ("vector",)
    reasons = {"tokens": "it reconstructs real-valued features", "images": "it reconstructs real-valued features",
               "class": "it reconstructs its input", "position": "it reconstructs its input"}
    sites = interp.site_rules({"hidden": "W", "logits": "out"})

    def unsupported(self, spec):
        reason = super().unsupported(spec)
        if reason is None and spec.n_classes != spec.shape[0]:
            return f"{self.name} reconstructs its input: {spec.n_classes} outputs for {spec.shape[0]} inputs"
        return reason

    def candidates(self, target, spec):
        return [{"m": m} for m in range(1, max(1, spec.shape[0] // 4) + 1)]

    def build(self, config, spec):
        return TiedAutoencoder(spec.shape[0], config["m"])


def pytest_interp_register(registrar):
    registrar.family(TiedAE())
