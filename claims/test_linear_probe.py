"""Linear probes: a task's ground-truth latent is linearly decodable from the middle hidden site.

Source: Alain & Bengio 2016, "Understanding intermediate layers using linear classifier
probes" (arXiv 1610.01644). Direction reported: deeper layers of a trained network make
the task's label increasingly linearly separable.

On sparse parity the label is the XOR of the relevant bits: a trained model must compute
it, and the probe shows whether it already has by the middle of the network.
"""

import pytest_interp as interp


@interp.claim(task="sparse-parity", needs=["hidden"])
def test_parity_is_linearly_decodable_at_the_middle_hidden_site(model):
    """The parity latent is linearly decodable (held-out probe accuracy >= 0.9) at the middle hidden site."""
    acts = model.activations("hidden", depth="middle")
    acc = interp.logistic_probe(acts, model.data.latents["parity"])
    # 0.9: chance is 0.5; a probe on a site that computes the parity scores ~1.0.
    interp.check("probe_accuracy", acc, ">=", 0.9)
