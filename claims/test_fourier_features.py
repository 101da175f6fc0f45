"""Fourier features: a model that groks modular addition embeds tokens in a few Fourier frequencies.

Source: Nanda, Chan, Lieberum, Smith & Steinhardt 2023, "Progress measures for grokking via
mechanistic interpretability" (arXiv 2301.05217); Chughtai, Chan & Nanda 2023, "A Toy Model of
Universality" (arXiv 2302.03025) for the seed, not the architecture, picking the frequencies.
Direction reported: after grokking (a + b) mod p, the token embedding W_E is sparse in the
Fourier basis over tokens: a handful of key frequencies carry almost all of its norm.
Condition: grokking needs weight decay (PILOTS.md: AdamW lr 3e-3, weight decay 1.0, betas
(.9, .98); Adam without decay memorized, test <= .26, so those cells stay `untrained`). The
metric is the share of the embedding's squared norm in its top-5 non-DC frequencies (real DFT
over the p number tokens, DC counted in the total); unsquared norms give much lower numbers.
Where you measure decides: PILOTS found the transformer's embedding .93-.95 but an embedding+MLP
model's only .52-.55 although it generalized (its hidden neurons were single-frequency instead).
Measured here (transformer 10k, AdamW as above): p = 53, seeds 0-2 grokked at steps 1500 / 2800 /
1400 with top-5 shares .91 / .94 / .75 (control .23-.26); top-3 frequencies {18, 20, 23},
{22, 15, 23}, {5, 10, 13}: the seed picks them. p = 31: .89 (control .40). Our `mlp` (4-dimensional
token embeddings) memorized and never generalized (test <= .02 at 10k and 100k, weight decay .1 or
1.0, lr 3e-3 or 1e-2), so it is `untrained`: the PILOTS contrast (an MLP's embedding .52-.55 after
grokking) cannot show here. At 1k the transformer (d = 4) did not learn the task (test .07).
Across the full grid: only AdamW groks (transformer 10k, 3 of 3
seeds hold both claims). Every other trained cell stays under the .95 target and is `untrained`:
at 10k SGD, Adam, Muon and Shampoo end at test accuracy .50 (the held-out pairs whose swap (b, a)
was in the training half: commutativity, not the algorithm), reptile at 10k and 100k at .50-.60
(trained on a GPU), the mlp under L-BFGS at 1k at .01-.02 and under reptile at 10k and 100k at
<= .011. Grokking needs weight decay, as the
pilot found. At 100k the transformer under AdamW groks faster (test accuracy 1.0 by step
1000-1200, 3 of 3 seeds) but both claims break: the top-5 share is .60-.69, under the .70 bar (the
10k cells: .75-.94). Training stops two evaluations after the target, so the larger model is
measured earlier in its grokking, before Nanda et al.'s cleanup phase has sparsified the
embedding; the scale trend puts the crossing near 50k parameters. Trained on instead
(studies/fourier_trained_on.py: the same cells with early stopping off, all 3000 steps), the share
rises as the cleanup phase predicts: .45-.67 where test accuracy first reaches .95 (steps
900-1100), .60-.69 two evaluations later (the grid's measurement, reproduced), .74-.94 from step
1500 on and .80 / .90 / .83 at step 3000, in the 10k cells' range. So the break at 100k is where we
measure, not evidence against the paper. Adam and Muon at 100k end at .49-.50 (commutativity
again), every mlp at 100k at <= .005. Reptile's meta-learning over offset tasks lifts the 1k mlp
to test .70 and .85 on two seeds (still under the target, so `untrained`); L-BFGS at 10k stays at
.01-.02 (mlp) and .50 (transformer, 3 of 3 seeds), at 100k at <= .005 (mlp) and .47 (transformer,
3 of 3 seeds: memorized pairs, a little under commutativity's .50). ES trains no cell: the mlp
ends at test .010-.020 at 1k, 10k and 100k, the transformer at .015-.022 at 1k, .066-.079 at
10k and .070-.083 at 100k (3 of 3 seeds each, a little above chance's .019), not near the .95
target. The seed claim records beside each number the same
measurement on both seeds' untrained controls: top-5 shares .21-.26, and the two controls share 0
of their top-3 frequencies (seeds 0/1) or 1 (seeds 2/0; two random sets of 3 of the 26
frequencies share .35 on average), where the grokked pairs share 1 and 0: the shared count alone
does not tell grokked seeds from random ones, which is why the claim first requires both shares
above .70. The AdamW transformer cells were retrained on this report's machine (the others are
kept from earlier runs): the top-5 shares moved by up to .04 (10k .74-.91, 100k .62-.65) and no
outcome changed.
"""

import pytest_interp as interp

#: The findings report's grid for this file (docs/findings.md): the families where these claims apply;
#: `pytest-interp findings` adds sizes 1k, 10k, 100k, the learning algorithms and 3 seeds.
FINDINGS = {
    "families": ["transformer", "mlp"],
    # grokking needs weight decay: AdamW as in Nanda et al. (PILOTS.md)
    "extra_optimizers": ["adamw"],
    "hparams": {"adamw": {"lr": 3e-3, "weight_decay": 1.0, "beta1": 0.9, "beta2": 0.98}},
    "budget": {},
}

#: top-k frequencies whose share is measured (Nanda et al. found ~5 key frequencies)
TOP_K = 5


def _number_embedding(model):
    """The token embedding rows of the p number tokens (the `=` token left out): (p, d)."""
    table = getattr(getattr(model.module, "embed", None), "table", None)
    if table is None:
        raise interp.NotApplicable(f"{model.family} has no token embedding table")
    p = model.task.spec.n_classes
    return table.weight[:p]


@interp.claim(task="modular-addition", needs=["embed"])
def test_token_embedding_is_sparse_in_the_fourier_basis(model):
    """The top-5 Fourier frequencies carry most of the token embedding's squared norm."""
    share = interp.fourier_concentration(_number_embedding(model), k=TOP_K).share
    null = interp.fourier_concentration(_number_embedding(model.control()), k=TOP_K).share
    # 0.7: grokked transformers measured .75-.94; the untrained control .23-.26 (p = 53), .40 (p = 31).
    # Training stops two evaluations after the test target, before Nanda et al.'s "cleanup" phase,
    # so a model that just grokked (seed 2, step 1400: .75) is less sparse than one trained on.
    interp.check("top5_fourier_share", share, ">=", 0.7, null=null)


def _spectrum(subject):
    """One DFT per embedding: the top-5 share and, strongest first, its top-5 frequencies."""
    return interp.fourier_concentration(_number_embedding(subject), k=TOP_K)


def _shared_top3(a, b):
    return len(set(a.frequencies[:3]) & set(b.frequencies[:3]))


@interp.claim(task="modular-addition", needs=["embed"])
def test_the_seed_picks_the_key_frequencies(model):
    """Two seeds of the same cell, both Fourier-sparse, share at most one of their top-3 frequencies."""
    seed = model.cell.seed
    other = model.sibling(1 if seed == 0 else 0)  # seeds 0 and 1 compare with each other, the rest with 0
    if model.trained and not other.metrics.get("reached", False):
        raise interp.NotApplicable(f"the sibling at seed {other.cell.seed} did not grok: nothing to compare")
    # the nulls: both seeds' cells at initialization (a control's control is itself)
    mine, theirs, mine0, theirs0 = (_spectrum(s) for s in (model, other, model.control(), other.control()))
    # 0.7 as above: two random embeddings trivially pick different frequencies, so the claim is
    # about key frequencies only once both embeddings have them (this makes it break on the control).
    for name, spectrum, null in (("top5_fourier_share", mine, mine0), ("sibling_top5_fourier_share", theirs, theirs0)):
        interp.check(name, spectrum.share, ">=", 0.7, null=null.share)
    shared = _shared_top3(mine, theirs)
    # 1: Chughtai et al. and PILOTS.md found disjoint key frequencies across seeds; two random sets of
    # 3 of the 26 frequencies at p = 53 share .35 on average. Measured: seeds 0/1 share 1 ({18, 20, 23}
    # vs {22, 15, 23}), seed 2 ({5, 10, 13}) none with seed 0.
    interp.check("shared_top3_frequencies", shared, "<=", 1, null=_shared_top3(mine0, theirs0))
