"""Repeated random tokens: in-context copying, the task induction heads solve (Olsson et al. 2022).

Training sequences (PILOTS.md): vocab 64, length 32; 80% repeat a random segment (length
4-16, random offset) right after itself, 20% are noise. Only positions whose next token is
the continuation of a repeat are labelled. The test set is [A A] with A = 16 distinct
tokens, so the second half is exactly predictable by copying.
Latents (per position): `predictable` and `source`, the position an induction head should
attend to (the token after the earlier occurrence; -1 where there is none).
"""

from __future__ import annotations

import torch

from .base import IGNORE, Batch, InputSpec, Task


class RepeatedTokens(Task):
    name = "repeated-tokens"
    defaults = {"vocab": 64, "length": 32, "repeat_fraction": 0.8, "min_segment": 4, "max_segment": 16,
                "test_size": 256, "test_seed": 0}
    #: 0.05 (3x chance, 1/64): "trained" must not mean "copies in context", or a model without an
    #: induction head could never be trained and the claim could never break (attn-only-1l
    #: reaches .13, LSTM .10, GRU .07, SSM .08 in 2000 steps); the claims measure the copying.
    accuracy_target = 0.05
    #: train the whole budget: the induction head forms in a phase change long after 3x chance
    early_stop = False
    budget = {"steps": 2000, "batch_size": 64, "eval_every": 100}

    def validate(self) -> None:
        c = self.config
        if not 2 * c["max_segment"] <= c["length"] <= 512 or not 2 <= c["min_segment"] <= c["max_segment"]:
            raise ValueError("repeated-tokens: need 2 <= min_segment <= max_segment and 2*max_segment <= length <= 512")
        if c["vocab"] < c["length"] // 2:
            raise ValueError("repeated-tokens: vocab must be at least length/2 (test halves use distinct tokens)")

    @property
    def spec(self) -> InputSpec:
        c = self.config
        return InputSpec(modality="tokens", shape=(c["length"],), vocab=c["vocab"], n_classes=c["vocab"],
                         output="position")

    def _labels(self, x: torch.Tensor, starts: torch.Tensor, seg: torch.Tensor) -> Batch:
        b, t = x.shape
        y = torch.full((b, t), IGNORE, dtype=torch.long)
        source = torch.full((b, t), -1, dtype=torch.long)
        pos = torch.arange(t)
        for i in range(b):
            if seg[i] <= 0:
                continue
            first, second = int(starts[i]), int(starts[i] + seg[i])
            # position q in the second copy (q >= second) predicts x[q+1] = x[q+1-seg]
            q = pos[(pos >= second) & (pos < second + int(seg[i]) - 1)]
            y[i, q] = x[i, q + 1]
            source[i, q] = q + 1 - int(seg[i])
            del first
        return Batch(x=x, y=y, latents={"predictable": y != IGNORE, "source": source})

    def train_batch(self, generator: torch.Generator, batch_size: int) -> Batch:
        c = self.config
        x = torch.randint(c["vocab"], (batch_size, c["length"]), generator=generator)
        seg = torch.randint(c["min_segment"], c["max_segment"] + 1, (batch_size,), generator=generator)
        repeat = torch.rand(batch_size, generator=generator) < c["repeat_fraction"]
        seg = torch.where(repeat, seg, torch.zeros_like(seg))
        room = (c["length"] - 2 * seg).clamp_min(0) + 1
        starts = (torch.rand(batch_size, generator=generator) * room).long()
        for i in range(batch_size):
            s, n = int(starts[i]), int(seg[i])
            if n:
                x[i, s + n: s + 2 * n] = x[i, s: s + n]
        return self._labels(x, starts, seg)

    def test_set(self) -> Batch:
        c = self.config
        gen = torch.Generator().manual_seed(c["test_seed"])
        half = c["length"] // 2
        first = torch.stack([torch.randperm(c["vocab"], generator=gen)[:half] for _ in range(c["test_size"])])
        x = torch.cat([first, first], 1)
        n = len(x)
        return self._labels(x, torch.zeros(n, dtype=torch.long), torch.full((n,), half, dtype=torch.long))
