"""The scripts in studies/ that claim files cite still run and still observe what they say."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _study(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "studies" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fourier_study_observes_the_embedding_at_every_evaluation() -> None:
    from pytest_interp import _train

    study = _study("fourier_trained_on")
    seen = study.trajectory("1k", 0, steps=300)
    assert [n for n, _, _ in seen] == [1, 2, 3, 4]  # evaluations at 100, 200, 300 and the final one
    assert all(0.0 <= acc <= 1.0 and 0.0 < share <= 1.0 for _, acc, share in seen)
    assert seen[-1][1:] == seen[-2][1:]  # the final evaluation measures the step-300 model again
    assert _train.evaluate.__name__ == "evaluate"  # the study observes; it does not replace the evaluation
