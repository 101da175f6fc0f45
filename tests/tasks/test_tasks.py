"""Every task: seeded data, a fixed held-out split, ground-truth latents that agree with the labels."""

from __future__ import annotations

import pytest
import torch

from pytest_interp._tasks import TASKS, make_task
from pytest_interp._tasks.base import IGNORE


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", TASKS.names())
def test_seeded_and_fixed(name: str) -> None:
    a, b = make_task(name), make_task(name)
    assert torch.equal(a.test_set().x, b.test_set().x)
    assert torch.equal(a.train_batch(_gen(1), 16).x, b.train_batch(_gen(1), 16).x)
    assert not torch.equal(a.train_batch(_gen(1), 16).x, a.train_batch(_gen(2), 16).x)


@pytest.mark.parametrize("name", TASKS.names())
def test_shapes_match_the_spec(name: str) -> None:
    task = make_task(name)
    spec = task.spec
    batch = task.train_batch(_gen(), 8)
    assert tuple(batch.x.shape[1:]) == spec.shape
    if spec.modality == "tokens":
        assert batch.x.dtype == torch.long and 0 <= int(batch.x.min()) and int(batch.x.max()) < spec.vocab
    for latent in task.test_set().latents.values():
        assert latent.shape[0] == len(task.test_set())


@pytest.mark.parametrize("name", TASKS.names())
def test_a_perfect_predictor_scores_one_and_chance_scores_low(name: str) -> None:
    task = make_task(name)
    test = task.test_set()
    spec = task.spec
    scale = 1.0  # logits are sharpened for cross-entropy; regression outputs are taken as they are
    if spec.output == "vector":
        perfect, null = test.y.float(), torch.zeros_like(test.y.float())
    else:
        scale = 50.0
        shape = (*test.y.shape, spec.n_classes)
        perfect = torch.nn.functional.one_hot(test.y.clamp_min(0), spec.n_classes).float()
        null = torch.zeros(shape)
        null[..., 0] = 1.0
    assert task.accuracy(perfect, test.y) == pytest.approx(1.0)
    assert task.accuracy(null, test.y) < 0.6
    assert float(task.loss(perfect * scale, test.y)) < float(task.loss(null * scale, test.y))


def test_sparse_parity_latents() -> None:
    task = make_task("sparse-parity")
    test = task.test_set()
    assert torch.equal(test.y, (test.latents["bit3"] + test.latents["bit7"]) % 2)
    train_rows = {tuple(r) for r in task._train_x.tolist()}
    assert not any(tuple(r) in train_rows for r in test.x.tolist()), "held-out inputs never appear in training"


def test_modular_addition_latents_and_related_tasks() -> None:
    task = make_task("modular-addition", p=13)
    test = task.test_set()
    assert torch.equal(test.y, (test.latents["a"] + test.latents["b"]) % 13)
    assert (test.x[:, 2] == 13).all()
    for other in task.related(3):
        assert other.spec == task.spec and other.config["offset"] != 0
        assert not torch.equal(other.test_set().y, test.y)


def test_repeated_tokens_sources_point_at_the_copied_token() -> None:
    task = make_task("repeated-tokens")
    for batch in (task.test_set(), task.train_batch(_gen(3), 64)):
        keep = batch.y != IGNORE
        src = batch.latents["source"]
        rows, cols = keep.nonzero(as_tuple=True)
        assert torch.equal(batch.x[rows, src[rows, cols]], batch.y[rows, cols])
        assert (src[rows, cols] < cols).all()
    test = task.test_set()
    assert all(len(set(row[:16].tolist())) == 16 for row in test.x)
    assert int((test.y != IGNORE).sum(1).unique()) == 15


def test_superposition_sparsity_is_configurable() -> None:
    dense, sparse = make_task("superposition", sparsity=0.0), make_task("superposition", sparsity=0.9)
    assert float((dense.test_set().x == 0).float().mean()) < 0.01
    assert float((sparse.test_set().x == 0).float().mean()) == pytest.approx(0.9, abs=0.02)


def test_digits_are_the_real_dataset() -> None:
    task = make_task("digits")
    from pytest_interp._tasks.digits import load_digits

    images, labels = load_digits()
    assert images.shape == (1797, 1, 8, 8) and sorted(labels.unique().tolist()) == list(range(10))
    assert float(images.min()) == 0.0 and float(images.max()) == 1.0
    assert not set(task._test.tolist()) & set(task._train.tolist())


def test_char_text_latents() -> None:
    from pytest_interp._tasks.char_text import ALPHABET, _string_mask

    source = 'x = "ab"\ny = 1\n'
    mask = _string_mask(source)
    assert "".join(ch for ch, m in zip(source, mask.tolist()) if m) == '"ab"'
    task = make_task("char-text", test_size=16)
    test = task.test_set()
    assert torch.equal(test.x[:, 1:], test.y[:, :-1])
    newline = ALPHABET.index("\n")
    after_newline = torch.cat([torch.zeros(16, 1, dtype=torch.bool), test.x[:, :-1] == newline], 1)
    assert (test.latents["column"][after_newline] == 0).all()
    assert test.latents["in_string"].any() and not test.latents["in_string"].all()


@pytest.mark.parametrize("name, bad", [
    ("sparse-parity", {"relevant": (3, 3)}), ("sparse-parity", {"n": 40}), ("sparse-parity", {"colour": 1}),
    ("modular-addition", {"p": 1}), ("repeated-tokens", {"length": 8}), ("superposition", {"sparsity": 1.0}),
    ("digits", {"test_fraction": 0}), ("char-text", {"context": 2}),
])
def test_bad_configs_are_value_errors(name: str, bad: dict) -> None:
    with pytest.raises(ValueError):
        make_task(name, **bad)


def test_shuffled_labels_are_a_fixed_function_of_the_input() -> None:
    task = make_task("sparse-parity", shuffle_labels=True)
    a, b = task.test_set(), task.test_set()
    assert torch.equal(a.y, b.y)
    assert 0.3 < float((a.y == make_task("sparse-parity").test_set().y).float().mean()) < 0.7
    train = task.train_batch(_gen(), 512)
    lookup = {tuple(x.tolist()): int(y) for x, y in zip(train.x, train.y)}
    again = task.train_batch(_gen(5), 512)
    assert all(lookup.get(tuple(x.tolist()), int(y)) == int(y) for x, y in zip(again.x, again.y))
    assert task.describe()["shuffle_labels"] is True
    with pytest.raises(ValueError, match="no single label"):
        make_task("repeated-tokens", shuffle_labels=True)
