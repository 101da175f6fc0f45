"""Linear probes: a task's ground-truth latent is linearly decodable from the middle hidden site.

Source: Alain & Bengio 2016, "Understanding intermediate layers using linear classifier probes"
(arXiv 1610.01644).
Direction reported: deeper layers of a trained network make the task's label increasingly
linearly separable; a probe needs a control (Hewitt & Liang 2019, arXiv 1909.03368), since a
random network's features can decode a latent too.
Condition: the latent must be one the input does not already expose linearly. The label of sparse
parity is the XOR of bits 3 and 7, which no linear map of the bits computes (Minsky & Papert 1969),
so an untrained network decodes it near chance and the trained-minus-control gap measures what
training built. Easy latents (a single input bit) are decodable from random features as well
(PILOTS.md: untrained GRUs decode the column position as well as trained ones). And the middle
site must be able to see both relevant bits: a convolution whose receptive field there is narrower
than the bits' distance cannot hold their XOR.
Measured here (sparse parity, seed 0; probe accuracy / same probe on the untrained control):
MLP 1k and 10k, transformer 1k and 10k, LSTM 1k: .99-1.0 (Adam and SGD;
transformer 1k SGD is untrained) vs controls .46-.66. The 1k CNN
breaks (.42 / .40): its middle site is its first conv block, kernel 3, which never sees bits 3 and 7
together. The 10k CNN holds at 1.0, but its random control already decodes .96: wide random ReLU
features of both bits make XOR linear, so there the probe says little about training. LSTM 10k SGD
reached the target yet breaks (.64): the parity is computed after the middle layer.
Full grid (5 families x 1k-100k x 7 algorithms x 3 seeds, docs/findings.md): it transfers on the MLP
(63/63) and the transformer (60/62) under every learning algorithm and size; the CNN holds from 10k up
only vacuously (controls .96-.99) and breaks at 1k. On the recurrent families the learning algorithm
decides: Muon puts the parity at the middle layer at every size (.97-1.0), while under L-BFGS and
Shampoo, and Adam except on the 10k LSTM, the 10k and 100k GRU and LSTM reach the target with a middle
layer that does not hold it (.49-.78); ES leaves them untrained in 1500 steps, or at the control's level.
"""

import pytest_interp as interp

#: The findings report's grid for this file (docs/findings.md): the families where these claims apply;
#: `pytest-interp findings` adds sizes 1k, 10k, 100k, the learning algorithms and 3 seeds.
FINDINGS = {"families": ["mlp", "cnn", "lstm", "gru", "transformer"], "hparams": {}, "budget": {}}


@interp.claim(task="sparse-parity", needs=["hidden"])
def test_parity_is_linearly_decodable_at_the_middle_hidden_site(model):
    """The parity latent is linearly decodable (held-out probe accuracy >= 0.9) at the middle hidden site,
    reported beside the same probe on the untrained control."""
    parity = model.data.latents["parity"]
    acc = interp.logistic_probe(model.activations("hidden", depth="middle"), parity)
    control = interp.logistic_probe(model.control().activations("hidden", depth="middle"), parity)
    # 0.9: chance is 0.5; a probe on a site that computes the parity scores ~1.0.
    interp.check("probe_accuracy", acc, ">=", 0.9, null=control)
