"""Representation similarity: linear CKA matches corresponding layers of two networks trained from different seeds.

Source: Kornblith, Norouzi, Lee & Hinton 2019, "Similarity of Neural Network Representations
Revisited", ICML 2019 (arXiv 1905.00414), section 6.1.
Direction reported: for each layer of one network, the layer of a second network (same architecture,
another initialization) with the highest linear CKA is the corresponding layer; CKA's layer-matching
accuracy is near 1 where CCA-based measures and linear regression fall far below it.
Condition: width and the random-init control. PILOTS.md did not reproduce "near 1" at widths <= 256 on
the digits (.17-.83; adjacent layers of one model already have CKA .92-.98, so cross-seed matches are
near ties), and saw it rise with width; random networks alone can match layers (a CNN's first layer
scores .94-.99 trained vs random), so the same matching on the two seeds' untrained controls is the
null. Layers here: every `hidden` site and the logits; debiased CKA (Nguyen et al. 2021), since
flattened feature maps are wider than n/5 of the 449 held-out digits.
Measured here (digits, default budget, seeds 0 and 1; accuracy / controls' accuracy):
MLP, Adam: 1k (width 11) .33 / .33, 10k (width 54) .75 / .25, 100k (width 205) 1.0 / .25 -- it rises
with width as in PILOTS.md; SGD 1k .67, 10k .25. CNN: 1k and 10k Adam 1.0 / .33 and .25, 10k SGD 1.0,
100k Adam 1.0 / .50, 1k SGD .67. GRU: 1k Adam .50 / 1.0 (the untrained controls match perfectly:
no evidence either way), 1k SGD 1.0 / 1.0, 10k 1.0 / .67 (Adam and SGD). LSTM 1.0 everywhere, but its
1k controls match at 1.0 too. Transformer 10k .33 (Adam) and .67 (SGD) vs controls .67: breaks.
Full grid (mlp, cnn, gru x 1k-100k x 7 algorithms x 3 seeds, docs/findings.md): the learning algorithm
decides as much as width. SGD, Adam and Muon match every CNN layer from 10k up (1.0, null .25-.33), and
the MLP's accuracy rises with width under them (Adam .56 / .50 / .92 at 1k / 10k / 100k); L-BFGS and ES
stay near the null at every size (MLP 100k .25 and .33, CNN 100k .50 and .25), Shampoo in between.
The GRU matches (43/49 seeds), but 21 of those holds are vacuous: its untrained controls match too.
Reptile is n/a (the digits have no family of related tasks).
"""

import pytest_interp as interp

#: The findings report's grid for this file (docs/findings.md): the families where these claims apply;
#: `pytest-interp findings` adds sizes 1k, 10k, 100k, the learning algorithms and 3 seeds.
FINDINGS = {"families": ["mlp", "cnn", "gru"], "hparams": {}, "budget": {}}


def _layers(subject):
    """The activations of every hidden site, then the logits, on the held-out digits."""
    sites = [*subject.sites("hidden"), subject.site("logits")]
    return [subject.activations(site) for site in sites]


@interp.claim(task="digits", needs=["hidden", "logits"], siblings=[1])
def test_linear_cka_matches_corresponding_layers_across_seeds(model):
    """Every layer's best linear-CKA match in the same cell trained from the next seed is its own
    counterpart (layer-matching accuracy 1), reported beside the same matching of the two untrained
    controls."""
    other = model.sibling(model.seed + 1)
    accuracy = interp.layer_match_accuracy(_layers(model), _layers(other), debiased=True)
    control = interp.layer_match_accuracy(_layers(model.control()), _layers(other.control()), debiased=True)
    # 1.0: "near 1" in the paper, and with 2-5 layers here one mismatch already costs .2-.5;
    # chance (a random best match) is 1 / layers, and the untrained controls measured .25-1.0.
    interp.check("layer_match_accuracy", accuracy, ">=", 1.0, null=control)
