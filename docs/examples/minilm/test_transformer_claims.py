"""Claims about transformers, run on a real pretrained model (all-MiniLM-L6-v2, zoo.toml here).

Each also runs on the model's untrained control (the same architecture at a seeded random
init): a claim that holds there too is reported as vacuous.
"""

import pytest_interp as interp

#: the task and data the zoo file's model is listed for; claims on other tasks do not run on it
TASK = dict(task="token-identity", offset=2000, vocab=100, length=16, test_size=32)


@interp.claim(**TASK, needs=["attn.pattern"])
def test_a_head_attends_to_the_previous_token(model):
    """Clark et al. 2019 ("What does BERT look at?"): some heads put most of their attention on the
    previous token. Score per head: mean attention from each position to the one before it."""
    best = 0.0
    for site in model.sites("attn.pattern"):
        pattern = model.activations(site)  # (batch, heads, query, key)
        previous = pattern[:, :, 1:, :].diagonal(dim1=2, dim2=3).mean((0, 2))  # per head
        best = max(best, float(previous.max()))
    interp.check("previous_token_score", best, ">=", 0.5)


@interp.claim(**TASK, needs=["hidden"])
def test_position_is_linearly_decodable_in_the_middle(model):
    """Absolute position is linearly decodable (ridge R^2) from the middle hidden site, per token."""
    hidden = model.activations("hidden", "middle")  # (batch, position, d)
    tokens = hidden.reshape(-1, hidden.shape[-1])
    r2 = interp.ridge_probe(tokens, model.data.latents["position"].reshape(-1).float())
    interp.check("position_r2", r2, ">=", 0.8)


@interp.claim(**TASK, needs=["hidden"])
def test_hidden_states_have_outlier_dimensions(model):
    """A privileged basis (Elhage et al. 2023; He et al. 2024): a few hidden dimensions carry much larger
    activations, so kurtosis over dimensions is well above that of the same states randomly rotated."""
    hidden = model.activations("hidden", "middle")
    null = interp.kurtosis_rms(interp.rotate(hidden))
    k = interp.kurtosis_rms(hidden)
    interp.check("kurtosis_rms_over_rotated", k / null, ">=", 1.5, null=1.0)
