"""Sites, the cached forward pass, interventions and controls on real (untrained) models."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import pytest_interp as edit
from pytest_interp._errors import NotApplicable
from pytest_interp._grid import Cell
from pytest_interp._sites import resolve_depth
from pytest_interp._store import Store
from pytest_interp._subject import Subject
from pytest_interp._train import initialize, make_plan


def _subject(family: str, size: str = "1k") -> Subject:
    plan = make_plan(Cell(family, size, "adam", "sparse-parity", 0))
    return Subject(initialize(plan), plan.cell, plan.task, params=plan.params, metrics={}, checkpoint_sha256=None)


@pytest.mark.parametrize("depth, count, index", [("middle", 1, 0), ("middle", 2, 0), ("middle", 3, 1),
                                                 ("middle", 4, 1), ("last", 3, 2), ("first", 3, 0),
                                                 (-1, 3, 2), (-3, 3, 0), (2, 3, 2), (None, 3, 2)])
def test_resolve_depth(depth: object, count: int, index: int) -> None:
    assert resolve_depth(depth, count, "hidden") == index  # type: ignore[arg-type]


@pytest.mark.parametrize("depth", [3, -4])
def test_depth_out_of_range_is_not_applicable(depth: int) -> None:
    with pytest.raises(NotApplicable):
        resolve_depth(depth, 3, "hidden")


def test_bad_depth_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        resolve_depth("deepest", 3, "hidden")  # type: ignore[arg-type]


@pytest.mark.parametrize("family", ["mlp", "transformer"])
def test_one_forward_pass_serves_every_site(family: str) -> None:
    s = _subject(family)
    before = s.counters.forward_passes
    for site in s.sites():
        assert s.activations(site).shape[0] == len(s.data)
    assert s.counters.forward_passes == before + 1
    s.outputs(s.data.x[:5])
    assert s.counters.forward_passes == before + 2


def test_missing_role_is_not_applicable() -> None:
    s = _subject("mlp")
    assert not s.has("attn.pattern")
    with pytest.raises(NotApplicable):
        s.site("attn.pattern", 0)


@pytest.mark.parametrize("family", ["mlp", "transformer"])
def test_patching_a_site_with_its_own_activation_reproduces_outputs(family: str) -> None:
    s = _subject(family)
    for site in s.sites():
        if site.role == "logits":
            continue
        out = s.intervene({site: edit.replace(s.activations(site))})
        assert torch.equal(out, s.outputs()), site


@pytest.mark.parametrize("family", ["mlp", "transformer"])
def test_zero_ablation_changes_outputs(family: str) -> None:
    s = _subject(family)
    site = s.site("hidden", "middle")
    assert not torch.allclose(s.intervene({site: edit.zero()}), s.outputs())


def test_per_head_and_per_position_edits() -> None:
    s = _subject("transformer", "10k")
    head_site = s.site("attn.head", 0)
    assert s.activations(head_site).shape[2] == 2  # two heads at 10k
    clean = s.outputs()
    only_head0 = s.intervene({head_site: edit.zero(head=0)})
    only_head1 = s.intervene({head_site: edit.zero(head=1)})
    assert not torch.allclose(only_head0, clean) and not torch.allclose(only_head0, only_head1)
    pos = s.intervene({s.site("hidden", 0): edit.mean(position=3)})
    assert not torch.allclose(pos, clean)
    vec = torch.randn(s.activations(s.site("hidden", 0)).shape[-1], generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(s.intervene({s.site("hidden", 0): edit.add(vec)}), clean)
    with pytest.raises(ValueError, match="no head axis"):
        s.intervene({s.site("hidden", 0): edit.zero(head=0)})


def test_control_has_the_same_sites_and_initial_weights(tmp_path: Path) -> None:
    from pytest_interp._zoo import Zoo

    cell = Cell("mlp", "1k", "adam", "sparse-parity", 0)
    zoo = Zoo(Store(tmp_path))
    trained = zoo.subject(cell)
    control = trained.control()
    assert control.sites() == trained.sites()
    assert not control.trained and control.control() is control
    fresh = initialize(zoo.plan(cell))
    for (name, a), b in zip(control.module.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name
    assert not torch.equal(trained.module.head.weight, control.module.head.weight)


def test_training_is_deterministic(tmp_path: Path) -> None:
    from pytest_interp._train import train

    plan = make_plan(Cell("mlp", "1k", "sgd", "sparse-parity", 1))
    (a, ma), (b, mb) = train(plan), train(plan)
    ma.pop("seconds", None), mb.pop("seconds", None)
    assert ma == mb
    for x, y in zip(a.state_dict().values(), b.state_dict().values()):
        assert torch.equal(x, y)


def test_plan_key_changes_with_everything_that_determines_weights() -> None:
    base = make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 0))
    keys = {
        base.key,
        make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 1)).key,
        make_plan(Cell("mlp", "10k", "adam", "sparse-parity", 0)).key,
        make_plan(Cell("mlp", "1k", "sgd", "sparse-parity", 0)).key,
        make_plan(Cell("transformer", "1k", "adam", "sparse-parity", 0)).key,
        make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 0), {"lr": 0.01}).key,
        make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 0), budget={"steps": 10}).key,
        make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 0, (("relevant", (1, 2)),))).key,
    }
    assert len(keys) == 8
    assert make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 0)).key == base.key


def test_shuffled_label_null_model(tmp_path: Path) -> None:
    from pytest_interp._zoo import Zoo

    zoo = Zoo(Store(tmp_path), budget={"steps": 200})
    trained = zoo.subject(Cell("mlp", "1k", "adam", "sparse-parity", 0))
    null = trained.null_model()
    assert null.cell.key.endswith("[shuffle_labels=True]-s0") and null.params == trained.params
    assert null.metrics["steps"] == 200  # a null trains its whole budget: no target to stop at
    assert zoo.subject(null.cell) is null
    with pytest.raises(NotApplicable):
        null.null_model()
    with pytest.raises(ValueError, match="unknown null"):
        trained.null_model("rotation")
