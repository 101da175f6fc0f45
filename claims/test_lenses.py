"""Lenses: the tuned lens reads the model's prediction out of a middle layer better than the logit lens.

Source: Belrose, Furman, Smith, Halawi, Ostrovsky, McKinney, Biderman & Steinhardt 2023,
"Eliciting Latent Predictions from Transformers with the Tuned Lens" (arXiv 2303.08112);
Paulo, Marshall & Belrose 2024, "Does Transformer Interpretability Transfer to RNNs?"
(arXiv 2404.05971).

Direction reported: the logit lens (decode a hidden state with the model's own final norm and
unembedding; nostalgebraist 2020) gives a rough picture of the model's final prediction in
transformers; a tuned lens (one learned affine translator per layer) has lower KL to the final
output at every layer. Paulo et al. report the same for RNNs and state-space models (Mamba,
RWKV).

Condition: the logit lens assumes every layer writes into the same basis the unembedding reads,
which a residual stream provides and a plain stack of recurrent layers does not (PILOTS.md:
layer-2 logit-lens KL .43–1.15 nats with a residual stream, 3.5–4.4 nats on a plain GRU stack,
top-1 agreement <= .04). Our `lstm` and `gru` are plain stacks (no residual connection), our
`transformer` and `ssm` are pre-norm residual: the logit-lens claim should hold on the latter and
break on the former, and the tuned lens should repair both.

Measured here (100k parameters, context 32, Adam, default budget, seed 0; middle hidden site =
block/layer 0 of 2; 64 held-out windows): a uniform prediction scores 2.3-2.7 nats. Logit lens
.43 nats (top-1 agreement .55) on the transformer, .47 (.61) on the SSM, but 2.9 (.005) on the
GRU and 3.3 (.015) on the LSTM: worse than uniform, as in the pilot. Tuned lens .21, .23, .08
and .04 nats: tuned/logit .41-.48 with a residual stream, .01-.03 without. Under SGD (seed 0)
the same split: logit lens / uniform .24 (transformer) and .25 (SSM) hold, .71 (GRU) and .69
(LSTM) break; tuned/logit .03-.39 everywhere. Both claims also
hold on the untrained controls (flagged vacuous): at initialization the middle residual stream
is nearly the final one and the output is nearly uniform, so agreeing with it is easy. What the
report should be read for is where the logit-lens claim breaks (no residual stream), which is
the paper's condition, not the learned content. Across the full grid (1k to 100k, 3 seeds, all
seven algorithms): no 1k cell and no ES cell reached the char-text
target (test accuracy .29-.34 < .40), reptile is n/a (char-text offers no family of related
tasks). The logit lens breaks on every trained GRU and LSTM cell (10k: GRU under Adam, Muon, SGD
and Shampoo, KL / uniform .72-1.37 over 3 seeds each; LSTM under Muon 1.15-1.53), the condition
again. It holds (vacuously) on every trained transformer and SSM cell under Adam, SGD, Muon and
Shampoo, but breaks under L-BFGS: on the SSM at 10k (.75-.99) and 100k (.52-.57), and on one of
three transformer seeds at 100k (.60). A full-batch second-order fit leaves the middle layer less
aligned with the unembedding; that is a break along the learning-algorithm axis the papers do
not test. At 100k the GRU and LSTM break the logit lens the same way (KL / uniform .73-1.46
under Adam, Muon, SGD and Shampoo), and the tuned lens still beats it (tuned / logit KL
.013-.058); so do they under L-BFGS at 10k (KL / uniform 1.76-3.02, tuned / logit .06-.14)
and at 100k (GRU 2.14-3.06, LSTM 3.19-3.80; tuned / logit .08-.21). ES trains none of the 27
GRU and LSTM cells either (test accuracy .29-.36 at every size). The tuned lens beats the logit
lens on every trained cell.
"""

import torch

import pytest_interp as interp

#: The findings report's grid for this file (docs/findings.md): the families where these claims apply;
#: `pytest-interp findings` adds sizes 1k, 10k, 100k, the learning algorithms and 3 seeds.
FINDINGS = {"families": ["transformer", "ssm", "gru", "lstm"], "hparams": {}, "budget": {}}


def _uniform_kl(final_logits: torch.Tensor) -> float:
    """KL(final || uniform): what a lens that predicts nothing scores (log V minus the final entropy)."""
    return float(interp.kl_to_final(final_logits, torch.zeros_like(final_logits)).mean())


#: Held-out windows the lenses read (x 32 positions each): 64 of the task's 256 keep the tuned
#: lens's full-batch L-BFGS fit to seconds; the lens is trained on 70% of them, scored on 30%.
WINDOWS = 64
#: L-BFGS iterations per translator: on the transformer, 100 iterations on all 256 windows gave a
#: tuned/logit ratio of .41, these settings .48: slightly under-trained, the same ordering.
LENS_STEPS = 50


def _lens_inputs(model):
    readout = interp.subject_readout(model)  # n/a for families without a known readout
    site = model.site("hidden", depth="middle")
    x = model.data.x[:WINDOWS]
    return readout, model.activations(site, inputs=x), model.outputs(x)


def _tuned_over_logit(model) -> float:
    readout, h, final = _lens_inputs(model)
    lens = interp.tuned_lens([h], final, readout, module=model.module, steps=LENS_STEPS)
    return lens.kl[0] / lens.logit_kl[0]


@interp.claim(task="char-text", needs=["hidden", "logits"], context=32)
def test_tuned_lens_beats_the_logit_lens_at_the_middle_hidden_site(model):
    """Held-out KL to the final output: tuned lens <= 0.8 x logit lens at the middle hidden site."""
    ratio = _tuned_over_logit(model)
    null = _tuned_over_logit(model.control())
    # 0.8: a translator that learned nothing gives 1.0; we measured .41-.48 with a residual
    # stream and .01-.03 without (PILOTS.md: .03-.54); 0.8 asks for a clear gain, not a tie.
    interp.check("tuned_over_logit_kl", ratio, "<=", 0.8, null=null)


@interp.claim(task="char-text", needs=["hidden", "logits"], context=32)
def test_logit_lens_is_informative_at_the_middle_hidden_site(model):
    """Logit-lens KL at the middle hidden site <= half of a uniform prediction's KL (needs a residual stream)."""
    readout, h, final = _lens_inputs(model)
    uniform = _uniform_kl(final)
    kl = interp.logit_lens([h], final, readout)[0]
    # Null: the same lens after a random rotation of the hidden state, which keeps its norm and
    # content but not its alignment with the unembedding.
    rotated = interp.logit_lens([interp.rotate(h).to(h.dtype)], final, readout)[0]
    # 0.5: the KL of a uniform prediction is the scale (2.3-2.7 nats here). Measured .17 with a
    # residual stream (transformer, SSM), 1.14-1.43 without (GRU, LSTM), 1.1-1.3 for the rotated null.
    interp.check("logit_lens_kl_over_uniform", kl / uniform, "<=", 0.5, null=rotated / uniform)
