"""Character-level text: next-character prediction on CPython standard-library source.

The corpus ships in tasks/data (twelve modules; two held out for the test set), so every
machine sees the same text (PILOTS.md used such a corpus for lenses, steering and probes).
Vocabulary: tab, newline and printable ASCII; anything else maps to '?'.
Latents (per position): `next_is_space` (the next character is whitespace), `column`
(characters since the last newline), `in_string` (inside a string literal, from tokenize).
"""

from __future__ import annotations

import gzip
import io
import tokenize
from functools import lru_cache
from importlib import resources

import torch

from .base import Batch, InputSpec, Task

ALPHABET = "\t\n" + "".join(chr(c) for c in range(32, 127))
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
HELD_OUT = ("fractions", "statistics")


def encode(text: str) -> torch.Tensor:
    unknown = _INDEX["?"]
    return torch.tensor([_INDEX.get(ch, unknown) for ch in text], dtype=torch.long)


def _string_mask(source: str) -> torch.Tensor:
    """True at characters inside string literals (exact, from Python's own tokenizer)."""
    line_starts = [0]
    for line in source.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    mask = torch.zeros(len(source), dtype=torch.bool)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.STRING:
                a = line_starts[tok.start[0] - 1] + tok.start[1]
                b = line_starts[tok.end[0] - 1] + tok.end[1]
                mask[a:b] = True
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return mask


@lru_cache(maxsize=1)
def load_corpus() -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """module -> (codes, in_string, column), all of one length."""
    raw = resources.files("pytest_interp._tasks").joinpath("data/python_stdlib_corpus.txt.gz").read_bytes()
    text = gzip.decompress(raw).decode("utf-8")
    out = {}
    for chunk in text.split("# ==== module: ")[1:]:
        name, _, body = chunk.partition(" ====\n")
        codes = encode(body)
        col = torch.zeros(len(body), dtype=torch.long)
        c = 0
        for i, ch in enumerate(body):
            col[i] = c
            c = 0 if ch == "\n" else c + 1
        out[name] = (codes, _string_mask(body), col)
    if len(out) != 12 or not all(m in out for m in HELD_OUT):
        raise ValueError("char-text corpus is damaged")
    return out


def _concat(names: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    corpus = load_corpus()
    parts = [corpus[n] for n in names]
    return tuple(torch.cat([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


class CharText(Task):
    name = "char-text"
    defaults = {"context": 64, "test_size": 256, "test_seed": 0}
    accuracy_target = 0.4
    budget = {"steps": 1500, "batch_size": 32, "eval_every": 100}

    def validate(self) -> None:
        if not 8 <= self.config["context"] <= 1024:
            raise ValueError("char-text: context must be in 8..1024")
        names = list(load_corpus())
        self._train = _concat([n for n in names if n not in HELD_OUT])
        self._test = _concat([n for n in names if n in HELD_OUT])

    @property
    def spec(self) -> InputSpec:
        t = self.config["context"]
        return InputSpec(modality="tokens", shape=(t,), vocab=len(ALPHABET), n_classes=len(ALPHABET),
                         output="position")

    def _windows(self, source: tuple[torch.Tensor, torch.Tensor, torch.Tensor], starts: torch.Tensor) -> Batch:
        codes, in_string, column = source
        t = self.config["context"]
        idx = starts.unsqueeze(1) + torch.arange(t + 1)
        w = codes[idx]
        x, y = w[:, :-1], w[:, 1:]
        space = torch.tensor([_INDEX[" "], _INDEX["\n"], _INDEX["\t"]])
        return Batch(x=x, y=y, latents={
            "next_is_space": torch.isin(y, space),
            "column": column[idx[:, :-1]],
            "in_string": in_string[idx[:, :-1]],
        })

    def train_batch(self, generator: torch.Generator, batch_size: int) -> Batch:
        n = len(self._train[0]) - self.config["context"] - 1
        return self._windows(self._train, torch.randint(n, (batch_size,), generator=generator))

    def test_set(self) -> Batch:
        n = len(self._test[0]) - self.config["context"] - 1
        gen = torch.Generator().manual_seed(self.config["test_seed"])
        return self._windows(self._test, torch.randint(n, (self.config["test_size"],), generator=gen))
