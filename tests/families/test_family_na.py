"""n/a decisions: a family that cannot take a task's inputs or outputs says why, before anything runs."""

from __future__ import annotations

import json

import pytest
import torch

from pytest_interp._errors import NotApplicable
from pytest_interp._families import FAMILIES
from pytest_interp._tasks import TASKS
from pytest_interp._tasks.base import InputSpec

from family_helpers import FAMILY_NAMES, SPECS, make_subject

SEQUENCE_FAMILIES = ["transformer", "attn-only", "lstm", "gru", "ssm"]


@pytest.mark.parametrize("family", FAMILY_NAMES)
@pytest.mark.parametrize("modality", ["tokens", "vectors", "images"])
def test_every_family_takes_every_modality_with_class_outputs(family: str, modality: str) -> None:
    assert FAMILIES.get(family).unsupported(SPECS[modality]) is None


@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_mlp_and_cnn_have_no_per_position_outputs(family: str) -> None:
    reason = FAMILIES.get(family).unsupported(SPECS["position"])
    assert reason is not None and "per-position" in reason and "(" in reason  # the why is given


@pytest.mark.parametrize("family", SEQUENCE_FAMILIES)
def test_sequence_families_have_per_position_outputs_but_not_for_images(family: str) -> None:
    fam = FAMILIES.get(family)
    assert fam.unsupported(SPECS["position"]) is None
    images_per_position = InputSpec("images", (1, 8, 8), n_classes=10, output="position")
    assert "not images" in (fam.unsupported(images_per_position) or "")


def test_unknown_modality_and_output_are_named() -> None:
    fam = FAMILIES.get("transformer")
    assert "audio" in (fam.unsupported(InputSpec("audio", (100,), n_classes=2)) or "")
    assert "span" in (fam.unsupported(InputSpec("tokens", (4,), n_classes=2, vocab=3, output="span")) or "")


def test_missing_role_is_not_applicable_on_the_subject() -> None:
    with pytest.raises(NotApplicable, match="attn.pattern"):
        make_subject("lstm", "tokens").site("attn.pattern")


CONFTEST = '''
import torch
from pytest_interp._tasks import TASKS
from pytest_interp._tasks.base import Batch, InputSpec, Task


class PreviousToken(Task):
    """Predict the previous token at every position: a per-position task, trivially short budget."""

    name = "previous-token"
    defaults = {}
    accuracy_target = 0.0
    budget = {"steps": 100, "batch_size": 16, "eval_every": 50}

    @property
    def spec(self):
        return InputSpec("tokens", (6,), n_classes=4, vocab=4, output="position")

    def _batch(self, x):
        return Batch(x, torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], 1))

    def train_batch(self, generator, batch_size):
        return self._batch(torch.randint(0, 4, (batch_size, 6), generator=generator))

    def test_set(self):
        return self._batch(torch.randint(0, 4, (32, 6), generator=torch.Generator().manual_seed(0)))

    def loss(self, logits, y):
        return torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())

    def accuracy(self, logits, y):
        return float((logits.argmax(-1) == y).float().mean())


TASKS.register(PreviousToken.name, PreviousToken)


def pytest_unconfigure(config):
    TASKS.unregister(PreviousToken.name)  # in-process run: leave the registry as it was
'''

CLAIMS = '''
import pytest_interp as interp
from pathlib import Path


@interp.claim(task="previous-token", needs=["hidden"])
def test_hidden(model):
    Path("ran-hidden-" + model.family).touch()
    interp.check("steps", model.activations("hidden", depth="last").shape[1], ">=", 6)


@interp.claim(task="previous-token", needs=["conv.channel"])
def test_conv(model):
    Path("ran-conv-" + model.family).touch()
'''


def test_na_is_decided_before_the_claim_runs(pytester: pytest.Pytester) -> None:
    """mlp (no per-position outputs) and gru (no conv.channel) are n/a without the claim body running."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_claims=CLAIMS)
    store, out = pytester.path / "store", pytester.path / "results.json"
    result = pytester.runpytest(
        "--interp-models=mlp,gru", "--interp-sizes=1k", "--interp-optimizers=adam", f"--interp-store={store}",
        f"--interp-json={out}", "-p", "no:cacheprovider",
    )
    result.assert_outcomes(passed=1, skipped=3)
    outcomes = {(r["claim"].split("::")[-1], r["family"]): (r["outcome"], r["reason"])
                for r in json.loads(out.read_text())["results"]}
    assert outcomes[("test_hidden", "gru")][0] == "holds"
    assert outcomes[("test_hidden", "mlp")] == ("n/a", FAMILIES.get("mlp").unsupported(
        InputSpec("tokens", (6,), n_classes=4, vocab=4, output="position")))
    assert outcomes[("test_conv", "gru")] == ("n/a", "gru has no conv.channel site")
    assert outcomes[("test_conv", "mlp")][0] == "n/a"
    ran = sorted(p.name for p in pytester.path.glob("ran-*"))
    assert ran == ["ran-hidden-gru"]
    assert "previous-token" not in TASKS


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_vector_outputs_read_out_like_class_outputs(family: str) -> None:
    """Regression tasks ("vector": n real values per input, e.g. superposition) use the class readout."""
    spec = InputSpec("vectors", (6,), n_classes=6, output="vector")
    fam = FAMILIES.get(family)
    assert fam.unsupported(spec) is None
    config, _ = fam.fit(1_000, spec)
    assert fam.build(config, spec)(torch.randn(3, 6)).shape == (3, 6)
