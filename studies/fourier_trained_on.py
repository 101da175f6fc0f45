"""Does the 100k transformer's embedding become Fourier-sparse if it trains on past grokking?

The findings grid stops a cell two evaluations after its task's target, which at 100k parameters
is early in grokking (claims/test_fourier_features.py, "Measured here"). This study trains the
same cells (transformer, AdamW as in the claim file, modular addition) for the whole budget with
early stopping off, and prints the held-out accuracy and the top-5 Fourier share of the token
embedding at every evaluation. About 10 minutes per seed on one core at 100k.

    python studies/fourier_trained_on.py --size 100k --seeds 0 1 2
"""

from __future__ import annotations

import argparse
from typing import Any

from pytest_interp import _train
from pytest_interp._grid import Cell
from pytest_interp._instruments.structure import fourier_concentration

ADAMW = {"lr": 3e-3, "weight_decay": 1.0, "beta1": 0.9, "beta2": 0.98}  # the claim file's FINDINGS hparams


def trajectory(size: str, seed: int, steps: int | None = None) -> list[tuple[int, float, float]]:
    """(evaluation number, held-out accuracy, top-5 share) at every evaluation of one training run,
    the last being the final one again; `steps` shortens the budget (a smoke test)."""
    budget = {"steps": steps} if steps is not None else None
    plan = _train.make_plan(Cell("transformer", size, "adamw", "modular-addition", seed), ADAMW, budget)
    plan.task.early_stop = False  # train the whole budget: this study's point
    p = plan.task.spec.n_classes
    seen: list[tuple[int, float, float]] = []

    def observe(model: Any, acc: float) -> None:
        share = float(fourier_concentration(model.embed.table.weight[:p].detach(), k=5).share)
        seen.append((len(seen) + 1, acc, share))

    _train.train(plan, observe=observe)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    budget = _train.make_plan(Cell("transformer", args.size, "adamw", "modular-addition", 0), ADAMW, None).budget
    every, steps = budget["eval_every"], budget["steps"]
    for seed in args.seeds:
        seen = trajectory(args.size, seed)
        first = next((i for i, (_, acc, _) in enumerate(seen) if acc >= 0.95), None)
        print(f"seed {seed}: test accuracy first >= .95 at step {every * (first + 1) if first is not None else '-'}")
        for n, acc, share in seen[:-1]:  # the last is the loop's final evaluation again
            print(f"  step {min(n * every, steps):>5}  test accuracy {acc:.3f}  top-5 share {share:.3f}")


if __name__ == "__main__":
    main()
