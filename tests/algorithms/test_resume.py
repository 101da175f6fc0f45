"""An interrupted cell goes on from its snapshot and ends with the weights of an uninterrupted run."""

from __future__ import annotations

import math
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_interp import _resume
from pytest_interp._grid import Cell
from pytest_interp._resume import ResumeFile, pack, unpack
from pytest_interp._store import Store
from pytest_interp._train import make_plan, train
from pytest_interp._progress import training_estimate
from pytest_interp._zoo import Zoo

from .test_common import ALL, QUICK

BUDGET = {"steps": 12, "eval_every": 5}


class Interrupted(Exception):
    pass


class StopAfter(ResumeFile):
    """Snapshots after every step and stops the run, like a Ctrl-C, once it has saved step `at`."""

    def __init__(self, path: Path, key: str, at: int) -> None:
        super().__init__(path, key, every_s=0.0)
        self.at = at

    def save(self, tree: Any) -> None:
        super().save(tree)
        if tree["loop"]["step"] >= self.at:
            raise Interrupted


def _whole_and_interrupted(plan: Any, tmp_path: Path, at: int) -> tuple[torch.nn.Module, Path]:
    """The uninterrupted run's model, and the snapshot a run interrupted after step `at` left."""
    whole, _ = train(plan)
    path = tmp_path / "cell.resume"
    with pytest.raises(Interrupted):
        train(plan, resume=StopAfter(path, plan.key, at=at))
    return whole, path


def _equal_models(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("name", ALL)
def test_an_interrupted_run_resumes_to_the_same_weights(name: str, tmp_path: Path) -> None:
    plan = make_plan(Cell("mlp", "1k", name, "sparse-parity", 1), QUICK.get(name), BUDGET)
    whole, whole_metrics = train(plan)
    path = tmp_path / "cell.resume"
    with pytest.raises(Interrupted):
        train(plan, resume=StopAfter(path, plan.key, at=7))  # mid-way between two evaluations
    assert path.is_file()
    seen: list[dict[str, Any]] = []
    resumed, metrics = train(plan, progress=seen.append, resume=ResumeFile(path, plan.key, every_s=0.0))
    assert seen[0]["resumed"] == 7 and seen[0]["seconds"] > 0
    assert [s["step"] for s in seen[1:]] == [10, 12]  # it went on from step 8, not from 0
    assert metrics == whole_metrics
    assert _equal_models(resumed, whole)
    assert not path.exists()  # a finished cell leaves no snapshot


class StopInPreparation(ResumeFile):
    """Snapshots reptile's meta-training at every iteration and stops the run once it has saved iteration `at`."""

    def __init__(self, path: Path, key: str, at: int) -> None:
        super().__init__(path, key, every_s=0.0)
        self.at = at
        self.saved: list[int] = []

    def save(self, tree: Any) -> None:
        super().save(tree)
        if "prepare" in tree:
            self.saved.append(tree["prepare"]["state"]["iteration"])
            if self.saved[-1] >= self.at:
                raise Interrupted


def test_reptile_interrupted_in_meta_training_goes_on_from_its_snapshot(tmp_path: Path) -> None:
    hparams = {"meta_iterations": 6, "inner_steps": 3}
    plan = make_plan(Cell("mlp", "1k", "reptile", "sparse-parity", 1), hparams, BUDGET)
    whole, whole_metrics = train(plan)
    path = tmp_path / "cell.resume"
    stopper = StopInPreparation(path, plan.key, at=4)
    with pytest.raises(Interrupted):
        train(plan, resume=stopper)
    assert stopper.saved == [1, 2, 3, 4] and ResumeFile(path, plan.key).step() == 0  # before step 1
    went_on = StopInPreparation(path, plan.key, at=99)
    resumed, metrics = train(plan, resume=went_on)
    assert went_on.saved == [5]  # iterations 1-4 were not run again
    assert metrics == whole_metrics and _equal_models(resumed, whole)
    assert not path.exists()
    # a preparation snapshot that does not fit this budget: meta-training starts over, to the same weights
    with pytest.raises(Interrupted):
        train(plan, resume=StopInPreparation(path, plan.key, at=4))
    shorter = make_plan(plan.cell, {**hparams, "meta_iterations": 3}, BUDGET)
    ResumeFile(path, shorter.key).save(ResumeFile(path, plan.key).load())
    again = StopInPreparation(path, shorter.key, at=99)
    model, _ = train(shorter, resume=again)
    assert again.saved == [1, 2] and _equal_models(model, train(shorter)[0])


def test_the_transformer_under_lbfgs_resumes_with_its_curvature_history(tmp_path: Path) -> None:
    plan = make_plan(Cell("transformer", "1k", "lbfgs", "sparse-parity", 0), None, BUDGET)
    whole, path = _whole_and_interrupted(plan, tmp_path, at=4)
    resumed, _ = train(plan, resume=ResumeFile(path, plan.key))
    assert _equal_models(resumed, whole)


def test_a_snapshot_of_another_cell_or_device_or_a_torn_one_is_ignored_and_removed(tmp_path: Path) -> None:
    plan = make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 0), None, BUDGET)
    other = make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 1), None, BUDGET)
    whole, _ = train(plan)
    path = tmp_path / "cell.resume"
    with pytest.raises(Interrupted):
        train(other, resume=StopAfter(path, other.key, at=3))
    seen: list[dict[str, Any]] = []
    model, _ = train(plan, progress=seen.append, resume=ResumeFile(path, plan.key))
    assert not any("resumed" in s for s in seen) and _equal_models(model, whole)
    with pytest.raises(Interrupted):
        train(plan, resume=StopAfter(path, plan.key, at=3))
    tree = ResumeFile(path, plan.key).load()
    ResumeFile(path, plan.key, device="cuda:0").save(tree)  # the same cell, snapshotted on a GPU
    assert ResumeFile(path, plan.key, device="cuda:0").load() is not None
    assert ResumeFile(path, plan.key).load() is None and not path.exists()
    path.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    assert ResumeFile(path, plan.key).load() is None and not path.exists()


def test_a_snapshot_counts_as_training_now_only_while_it_is_rewritten(tmp_path: Path) -> None:
    """The heartbeat's test: a queued cell's snapshot from an earlier build is not a cell in training."""
    plan = make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 0), None, BUDGET)
    path = tmp_path / "cell.resume"
    with pytest.raises(Interrupted):
        train(plan, resume=StopAfter(path, plan.key, at=3))
    snapshot = ResumeFile(path, plan.key)
    assert snapshot.step() == snapshot.step(written_within_s=600) == 3
    position = snapshot.position()
    assert position is not None and position[0] == 3 and position[1] is not None and position[1] > 0
    hour_ago = time.time() - 3600
    os.utime(path, (hour_ago, hour_ago))
    assert snapshot.step(written_within_s=600) is None and snapshot.step() == 3
    assert snapshot.step(written_within_s=7200) == 3
    path.unlink()
    assert snapshot.step(written_within_s=600) is None


def test_a_snapshot_whose_state_does_not_fit_starts_over(tmp_path: Path) -> None:
    plan = make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 0), None, BUDGET)
    whole, path = _whole_and_interrupted(plan, tmp_path, at=3)
    snap = ResumeFile(path, plan.key)
    tree = snap.load()
    tree["model"] = {k: v[..., :1] for k, v in tree["model"].items()}  # another family's shapes
    snap.save(tree)
    seen: list[dict[str, Any]] = []
    model, _ = train(plan, progress=seen.append, resume=ResumeFile(path, plan.key))
    assert not any("resumed" in s for s in seen) and _equal_models(model, whole)


def test_an_algorithm_without_state_writes_no_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_interp._algorithms.base import TorchOptimizerStepper

    monkeypatch.setattr(TorchOptimizerStepper, "state", lambda self: None)
    plan = make_plan(Cell("mlp", "1k", "adam", "sparse-parity", 0), None, BUDGET)
    path = tmp_path / "cell.resume"
    train(plan, resume=StopAfter(path, plan.key, at=3))  # never saves, so never stops
    assert not path.exists()


def test_the_zoo_resumes_an_interrupted_cell_and_counts_its_earlier_seconds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cell = Cell("mlp", "1k", "es", "sparse-parity", 0)
    fresh = Zoo(Store(tmp_path / "fresh"), hparams={"es": QUICK["es"]}, budget=BUDGET).subject(cell)
    monkeypatch.setattr(_resume, "SNAPSHOT_EVERY_S", 0.0)
    saved = ResumeFile.save

    def save_then_stop(self: ResumeFile, tree: Any) -> None:
        saved(self, tree)
        if tree["loop"]["step"] >= 6:
            raise KeyboardInterrupt

    monkeypatch.setattr(ResumeFile, "save", save_then_stop)
    store = Store(tmp_path / "store")
    with pytest.raises(KeyboardInterrupt):
        Zoo(store, hparams={"es": QUICK["es"]}, budget=BUDGET).subject(cell)
    assert store.keys() == set() and len(list(store.root.glob("??/*.resume"))) == 1
    monkeypatch.setattr(ResumeFile, "save", saved)
    planner = Zoo(store, hparams={"es": QUICK["es"]}, budget=BUDGET)
    assert planner.snapshot_step(cell) == 6 and planner.snapshot_step(replace(cell, seed=1)) is None
    seed1 = planner.subject(replace(cell, seed=1)).metrics["seconds"]
    assert planner.training_seconds(cell) == pytest.approx(seed1 * 6 / 12)  # half its steps are left
    assert "1 go on from where an interrupted run stopped" in training_estimate(planner, [cell])
    events: list[tuple[str, Any]] = []
    zoo = Zoo(store, hparams={"es": QUICK["es"]}, budget=BUDGET, listener=lambda e, c, i: events.append((e, i)))
    subject = zoo.subject(cell)
    assert zoo.stats.resumed == {cell.key: 6}
    assert ("train-resumed", {"resumed": 6, "steps": 12, "seconds": pytest.approx(events[1][1]["seconds"])}) in events
    assert subject.checkpoint_sha256 == fresh.checkpoint_sha256
    assert subject.metrics["seconds"] >= events[1][1]["seconds"]
    assert list(store.root.glob("??/*.resume")) == []


trees = st.recursive(
    st.none() | st.booleans() | st.integers(-2**62, 2**62) | st.text(max_size=5)
    | st.floats(allow_nan=True) | st.builds(lambda n: torch.arange(float(n)), st.integers(0, 4)),
    lambda kids: st.lists(kids, max_size=3) | st.lists(kids, max_size=3).map(tuple)
    | st.dictionaries(st.integers(0, 9) | st.text(max_size=3), kids, max_size=3),
    max_leaves=12)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, float):
        return isinstance(b, float) and (a == b or (math.isnan(a) and math.isnan(b)))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=60, deadline=None)
@given(trees)
def test_pack_and_unpack_give_back_the_tree(tree: Any) -> None:
    tensors: dict[str, torch.Tensor] = {}
    import json

    skeleton = json.loads(json.dumps(pack(tree, tensors)))
    assert _same(unpack(skeleton, tensors), tree)


def test_pack_refuses_what_it_cannot_restore() -> None:
    with pytest.raises(TypeError):
        pack({"f": lambda: 0}, {})
    with pytest.raises(ValueError):
        unpack({"$x": 1}, {})


def test_the_build_line_says_where_a_resumed_cell_went_on_from(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_interp._zoo_build import BuiltCell, printed_progress

    line = printed_progress(0.0)
    line(1, 2, BuiltCell("mlp-1k-es-sparse-parity-s0", "ab", "cd", True, 1000, {"test_accuracy": 0.5}, 3.0, 700))
    line(2, 2, BuiltCell("mlp-1k-es-sparse-parity-s1", "ab", "cd", True, 1000, {"test_accuracy": 0.5}, 3.0))
    first, second = capsys.readouterr().out.splitlines()
    assert "went on from step 700 of an interrupted build" in first and "went on" not in second


def test_the_snapshot_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_interp._errors import ConfigError
    from pytest_interp._resume import snapshot_seconds

    assert snapshot_seconds() == _resume.SNAPSHOT_EVERY_S
    monkeypatch.setenv("PYTEST_INTERP_SNAPSHOT_SECONDS", "0")
    assert ResumeFile(Path("x.resume"), "ab" * 8).every_s == 0.0
    monkeypatch.setenv("PYTEST_INTERP_SNAPSHOT_SECONDS", "inf")
    assert not ResumeFile(Path("x.resume"), "ab" * 8).due()  # never
    for bad in ("-1", "soon", "nan"):
        monkeypatch.setenv("PYTEST_INTERP_SNAPSHOT_SECONDS", bad)
        with pytest.raises(ConfigError, match="PYTEST_INTERP_SNAPSHOT_SECONDS"):
            snapshot_seconds()


@pytest.mark.parametrize("seconds, said", [(0.2, "1 s"), (40, "40 s"), (89.6, "90 s"), (90, "2 min"),
                                           (1500, "25 min"), (5399, "90 min"), (5400, "1.5 h"), (9000, "2.5 h"),
                                           (2 * 86400 - 1, "48.0 h"), (7 * 86400, "7 days")])
def test_the_heartbeat_says_time_left_as_precisely_as_a_pace_deserves(seconds: float, said: str) -> None:
    from pytest_interp._zoo_build import duration

    assert duration(seconds) == said
