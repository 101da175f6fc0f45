"""A claim expected to break: parity is linearly decodable from the embedding already.

The label of sparse parity is the XOR of two input bits, and XOR is the textbook
function no linear classifier computes (Minsky & Papert 1969). The embedding site holds
a per-token (or per-input) code of the bits before any nonlinearity mixes them, so a
linear probe there should score near chance: this claim shows what `breaks` looks like.

Source: Minsky & Papert 1969, "Perceptrons" (MIT Press): XOR is not linearly separable.
Direction reported: no linear read-out of the raw bits computes their parity, so the probe
at the embedding stays at chance while the middle hidden site decodes it (claims/test_linear_probe.py).
Condition: the embedding must still be a per-bit code (before any nonlinearity).
Measured here (sparse parity, mlp and transformer, 1k-100k, seven learning algorithms, 3 seeds):
it breaks on every decided seed with probe accuracy .43 everywhere, and .43 on the untrained
control beside it: no better than one constant guess on the held-out set (chance .5), trained or
not, as it should.
"""

import pytest_interp as interp

#: The findings report's grid for this file (docs/findings.md): the families where these claims apply;
#: `pytest-interp findings` adds sizes 1k, 10k, 100k, the learning algorithms and 3 seeds.
FINDINGS = {"families": ["mlp", "transformer"], "hparams": {}, "budget": {}}


@interp.claim(task="sparse-parity", needs=["embed"])
def test_parity_is_linearly_decodable_from_the_embedding(model):
    """Expected to break: parity is not a linear function of the input bits; reported beside the
    same probe on the untrained control's embedding."""
    parity = model.data.latents["parity"]
    acc = interp.logistic_probe(model.activations("embed"), parity)
    control = interp.logistic_probe(model.control().activations("embed"), parity)
    # 0.9 as in claims/test_linear_probe.py: chance is 0.5, a site that computes the parity scores ~1.0.
    interp.check("probe_accuracy", acc, ">=", 0.9, null=control)
