"""`Subject.sibling(seed)`: the same cell trained from another seed (claims across seeds, e.g. CKA)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from pytest_interp._errors import NotApplicable
from pytest_interp._grid import Cell, load_zoo
from pytest_interp._store import Store
from pytest_interp._zoo import Zoo

CELL = Cell("mlp", "1k", "adam", "sparse-parity", 0)


def _weights(subject: object) -> list[torch.Tensor]:
    return [p.detach().clone() for p in subject.module.parameters()]  # type: ignore[attr-defined]


def test_sibling_is_the_same_cell_at_another_seed_cached_and_deterministic(tmp_path: Path) -> None:
    zoo = Zoo(Store(tmp_path / "store"), budget={"steps": 60})
    subject = zoo.subject(CELL)
    assert subject.sibling(0) is subject, "the sibling at its own seed is the subject itself"
    sib = subject.sibling(1)
    assert sib.cell == Cell("mlp", "1k", "adam", "sparse-parity", 1) and sib.params == subject.params
    assert sib.trained and sib.checkpoint_sha256
    assert subject.sibling(1) is sib and zoo.subject(sib.cell) is sib, "cached like any cell"
    assert zoo.stats.trained == {CELL.key, sib.cell.key}
    # another seed, other weights
    assert any(not torch.equal(a, b) for a, b in zip(_weights(subject), _weights(sib)))
    assert sib.sibling(0) is subject, "siblings are symmetric"
    with pytest.raises(ValueError, match="non-negative"):
        subject.sibling(-1)
    # deterministic: a fresh zoo on another store trains the same weights for the same seed
    again = Zoo(Store(tmp_path / "other"), budget={"steps": 60}).subject(CELL).sibling(1)
    assert all(torch.equal(a, b) for a, b in zip(_weights(sib), _weights(again)))
    # and one on the same store loads it instead of training
    reloaded = Zoo(Store(tmp_path / "store"), budget={"steps": 60})
    assert reloaded.subject(CELL).sibling(1).checkpoint_sha256 == sib.checkpoint_sha256
    assert reloaded.stats.trained == set() and reloaded.stats.loaded == {CELL.key, sib.cell.key}


def test_a_controls_sibling_is_the_siblings_control(tmp_path: Path) -> None:
    zoo = Zoo(Store(tmp_path), budget={"steps": 20})
    subject = zoo.subject(CELL)
    control = subject.control()
    assert control.sibling(0) is control
    other = control.sibling(2)
    assert other is subject.sibling(2).control() and not other.trained and other.cell.seed == 2
    assert any(not torch.equal(a, b) for a, b in zip(_weights(control), _weights(other)))


def test_a_named_checkpoint_has_no_sibling(tmp_path: Path) -> None:
    from pytest_interp._families import FAMILIES
    from pytest_interp._tasks import make_task

    (tmp_path / "ckpt").mkdir()
    torch.manual_seed(0)
    module = FAMILIES.get("mlp").build({"width": 16, "depth": 2, "embed_dim": 4}, make_task("sparse-parity").spec)
    save_file(module.state_dict(), str(tmp_path / "ckpt" / "a.safetensors"))
    zoo_file = tmp_path / "zoo.toml"
    zoo_file.write_text(textwrap.dedent('''
        [[checkpoint]]
        name = "a"
        file = "ckpt/a.safetensors"
        family = "mlp"
        config = {width = 16, depth = 2, embed_dim = 4}
        task = "sparse-parity"
    '''))
    grid = load_zoo(zoo_file)
    zoo = Zoo(Store(tmp_path / "store"), sources=grid.sources)
    (cell,) = grid.cells("sparse-parity")
    subject = zoo.subject(cell)
    assert subject.sibling(cell.seed) is subject
    with pytest.raises(NotApplicable, match="was not trained here"):
        subject.sibling(cell.seed + 1)
    with pytest.raises(NotApplicable, match="no siblings"):
        subject.control().sibling(cell.seed + 1)
    assert zoo.stats.trained == set()


def test_declared_siblings_are_validated() -> None:
    import pytest_interp as interp
    from pytest_interp._claimspec import claim_spec

    @interp.claim(siblings=1)
    def one(model: object) -> None: ...

    assert claim_spec(one).siblings == (1,)
    assert claim_spec(None, {"task": "digits", "siblings": [2, 1, 2]}).siblings == (1, 2)
    for bad in ([0], ["1"], [True], 1.5):
        with pytest.raises(ValueError, match="siblings must be non-zero seed offsets"):
            interp.claim(siblings=bad)


def test_declared_siblings_are_planned_and_trained_before_the_claims_run(pytester: pytest.Pytester,
                                                                        tmp_path: Path) -> None:
    pytester.makepyfile(test_claims='''
import pytest_interp as interp

@interp.claim(needs=["hidden"], siblings=[1])
def test_across_seeds(model):
    other = model.sibling(model.seed + 1)
    interp.check("same_shape", float(other.activations("hidden", 0).shape == model.activations("hidden", 0).shape), ">=", 1.0)
''')
    args = ["--interp-models=mlp", "--interp-sizes=2k", "--interp-optimizers=adam", "--interp-no-controls",
            f"--interp-store={tmp_path / 'store'}"]
    plan = pytester.runpytest("--collect-only", "-q", *args)
    # one cell in the grid, and its next seed, which the claim declares it compares with
    plan.stdout.fnmatch_lines(["pytest-interp: 2 cells to run claims on: 0 stored, 2 to train, *"])
    run = pytester.runpytest(*args)
    run.assert_outcomes(passed=1)
    # both are trained up front, numbered, before the first claim runs
    run.stdout.fnmatch_lines(["[[]interp[]] training cell 1/2 mlp-2k-adam-sparse-parity-s0 *",
                              "[[]interp[]] training cell 2/2 mlp-2k-adam-sparse-parity-s1 *"])


def test_training_time_is_estimated_from_other_seeds_or_the_adam_twin(tmp_path: Path) -> None:
    from pytest_interp._algorithms import ALGORITHMS

    zoo = Zoo(Store(tmp_path / "s"), budget={"steps": 60})
    assert zoo.training_seconds(CELL) is None  # nothing stored to go by
    metrics = zoo.subject(CELL).metrics
    seconds = metrics["seconds"]
    assert zoo.training_seconds(CELL) is None, "its own time is not an estimate of itself"
    assert zoo.training_seconds(Cell("mlp", "1k", "adam", "sparse-parity", 3)) == pytest.approx(seconds)
    lbfgs = Cell("mlp", "1k", "lbfgs", "sparse-parity", 1)
    assert zoo.training_seconds(lbfgs) == pytest.approx(seconds * ALGORITHMS.get("lbfgs").relative_cost)
    # ES runs its whole budget (60 steps here) whenever Adam stopped: the twin's seconds per step
    # times ES's cost per step times the budget
    es = Cell("mlp", "1k", "es", "sparse-parity", 1)
    es_estimate = seconds / metrics["steps"] * ALGORITHMS.get("es").step_cost * 60
    assert zoo.training_seconds(es) == pytest.approx(es_estimate)
    assert zoo.training_seconds(Cell("mlp", "2k", "es", "sparse-parity", 0)) is None  # no twin at that size
    # ... unless the run has that other size: then by its time there, scaled by the cube root of the
    # size ratio above 10k (1k -> 2k: both under 10k, the same; 1k -> 80k: twice)
    assert zoo.training_seconds(Cell("mlp", "2k", "es", "sparse-parity", 0), sizes=["1k", "2k"]) == \
        pytest.approx(es_estimate)
    assert zoo.training_seconds(Cell("mlp", "80k", "adam", "sparse-parity", 0), sizes=["1k", "80k"]) == \
        pytest.approx(seconds * 2)
    assert zoo.training_seconds(Cell("cnn", "80k", "adam", "sparse-parity", 0), sizes=["1k", "80k"]) is None


def test_training_times_from_another_device_are_not_estimates(tmp_path: Path) -> None:
    """A GPU trains a cell 20-40x faster than a CPU core (docs/performance.md): a stored time counts only
    for the device it was measured on."""
    store = Store(tmp_path / "s")
    zoo = Zoo(store, budget={"steps": 60})
    zoo.subject(CELL)
    ckpt = store.load(zoo.plan(CELL).key)
    assert ckpt is not None
    twin = Cell("mlp", "1k", "adam", "sparse-parity", 1)
    store.save(zoo.plan(twin).key, ckpt.tensors, {**ckpt.meta, "device": "cuda", "metrics": {**ckpt.meta["metrics"], "seconds": 1.5}})
    other = Cell("mlp", "1k", "adam", "sparse-parity", 2)
    assert zoo.training_seconds(other) == pytest.approx(ckpt.meta["metrics"]["seconds"])  # the CPU time only
    assert Zoo(store, device="cuda", budget={"steps": 60}).training_seconds(other) == pytest.approx(1.5)
