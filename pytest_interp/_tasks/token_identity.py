"""Token identity: uniform random token sequences whose every position names its own token.

The task of a real model's inputs more than of training: it gives token ids for a
pretrained encoder (a zoo file's [[hf]] model, e.g. all-MiniLM-L6-v2) and the ground truth
that claims about transformers probe. `offset` picks the block of token ids [offset,
offset + vocab), so a BERT vocabulary's ordinary words can be chosen over its special and
unused tokens (from id 1996, "the", on: common English words in BERT's uncased vocabulary).
Labels: per position, the token's index in that block (a causal model can learn it from
its own embedding). Latents (per position): `token` (the same index) and `position`.
"""

from __future__ import annotations

import torch

from .base import Batch, InputSpec, Task


class TokenIdentity(Task):
    name = "token-identity"
    defaults = {"vocab": 64, "offset": 0, "length": 16, "test_size": 128, "test_seed": 0}
    accuracy_target = 0.95
    budget = {"steps": 1000, "batch_size": 64, "eval_every": 50}

    def validate(self) -> None:
        c = self.config
        if not 2 <= c["vocab"] <= 100_000 or not 0 <= c["offset"] <= 1_000_000:
            raise ValueError("token-identity: need 2 <= vocab <= 100000 and 0 <= offset <= 1000000")
        if not 2 <= c["length"] <= 512 or not 4 <= c["test_size"] <= 100_000:
            raise ValueError("token-identity: need 2 <= length <= 512 and 4 <= test_size <= 100000")

    @property
    def spec(self) -> InputSpec:
        c = self.config
        return InputSpec(modality="tokens", shape=(c["length"],), vocab=c["offset"] + c["vocab"],
                         n_classes=c["vocab"], output="position")

    def _batch(self, index: torch.Tensor) -> Batch:
        position = torch.arange(index.shape[1]).expand_as(index).clone()
        return Batch(x=index + self.config["offset"], y=index, latents={"token": index, "position": position})

    def train_batch(self, generator: torch.Generator, batch_size: int) -> Batch:
        c = self.config
        return self._batch(torch.randint(c["vocab"], (batch_size, c["length"]), generator=generator))

    def test_set(self) -> Batch:
        c = self.config
        gen = torch.Generator().manual_seed(c["test_seed"])
        return self._batch(torch.randint(c["vocab"], (c["test_size"], c["length"]), generator=gen))
