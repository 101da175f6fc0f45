"""The other lab's claim: each relevant input bit is decodable, one by one, right after the embedding.

It depends only on pytest-interp's public API, so it runs on their models and on ours.
"""

import pytest_interp as interp


@interp.claim(task="sparse-parity", needs=["hidden"])
def test_relevant_bits_are_decodable_at_the_first_hidden_site(model):
    """A linear probe reads each relevant bit at the first hidden site (accuracy >= 0.9)."""
    acts = model.activations("hidden", depth=0)
    for bit in ("bit3", "bit7"):
        acc = interp.logistic_probe(acts, model.data.latents[bit])
        interp.check(f"{bit}_probe_accuracy", acc, ">=", 0.9)
