"""Cold build of a 12-cell grid: our zoo builder against a naive one-after-another torch loop.

    python benchmarks/bench_training.py [--workers 2]

Both train the same cells for the same number of steps (the steps our trainer used, which stops
early once a cell meets its target twice), so the ratio measures how the work is run: our
builder uses one torch thread per worker process and both cores; the naive loop is what one
writes by hand (torch's default threads, cells in sequence). Ratios only: the machine is shared.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from pytest_interp._algorithms import ALGORITHMS
from pytest_interp._grid import GridSpec
from pytest_interp._train import initialize, make_plan
from pytest_interp._zoo_build import build, cells_for

GRID = GridSpec(("mlp", "cnn", "transformer"), ("1k", "10k"), ("sgd", "adam"), seeds=1)


def naive(cells: list, steps: dict[str, int]) -> float:
    """Plain torch: build, then a standard training loop, one cell after another."""
    start = time.perf_counter()
    for cell in cells:
        plan = make_plan(cell)
        model = initialize(plan)
        task = plan.task
        hp = plan.hparams
        if cell.optimizer == "sgd":
            opt = torch.optim.SGD(model.parameters(), lr=hp["lr"], momentum=hp["momentum"])
        else:
            opt = torch.optim.Adam(model.parameters(), lr=hp["lr"])
        gen = torch.Generator().manual_seed(cell.seed)
        for _ in range(steps[cell.key]):
            batch = task.train_batch(gen, plan.budget["batch_size"])
            opt.zero_grad()
            loss = task.loss(model(batch.x), batch.y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        with torch.no_grad():
            task.accuracy(model(task.test_set().x), task.test_set().y)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    assert all(o in ALGORITHMS for o in GRID.optimizers)
    cells = cells_for(GRID, ["sparse-parity"])
    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        built = build(cells, Path(d), executor="process", workers=args.workers)
        ours = time.perf_counter() - start
    steps = {b.cell: int(b.metrics["steps"]) for b in built}
    theirs = naive(cells, steps)
    print(f"cells: {len(cells)}, steps in all: {sum(steps.values())}, torch threads (naive): {torch.get_num_threads()}")
    print(f"{'ours (process pool, ' + str(args.workers) + ' workers)':<36} {ours:8.1f} s")
    print(f"{'naive loop':<36} {theirs:8.1f} s")
    print(f"ratio ours / naive: {ours / theirs:.2f}   (goal: 0.50 or less)")


if __name__ == "__main__":
    main()
