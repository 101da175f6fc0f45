"""What a training snapshot costs, beside what a training step costs, cell by cell in one run.

    python benchmarks/bench_snapshot.py [--steps 10]

For the findings grids' cells with the largest training state (L-BFGS keeps 20 pairs of history
vectors, Adam two moments, ES its Adam and the flattened parameters), it trains a few steps, then
times writing the snapshot (`ResumeFile.save`: flatten, digest, safetensors, fsync, rename) and
reading it back (`load` plus restoring model and algorithm). The overhead column is one write per
default interval (60 s) of training. Ratios only: the machine may be shared.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from pytest_interp._grid import Cell
from pytest_interp._resume import SNAPSHOT_EVERY_S, ResumeFile
from pytest_interp._train import _Loop, _restore, _snapshot, _start, make_plan

CELLS = [
    Cell("transformer", "100k", "lbfgs", "char-text", 0, (("context", 32),)),
    Cell("transformer", "100k", "adam", "modular-addition", 0),
    Cell("transformer", "100k", "es", "repeated-tokens", 0),
    Cell("ssm", "100k", "shampoo", "char-text", 0, (("context", 32),)),
]


def measure(cell: Cell, steps: int, folder: Path) -> tuple[float, float, float, int]:
    """(seconds per step, seconds per snapshot write, seconds per read and restore, bytes)."""
    plan = make_plan(cell)
    model, stepper, gen = _start(plan, "cpu", meta_train=False)
    task, batch_size = plan.task, plan.budget["batch_size"]
    steps = max(2, steps // 5) if cell.optimizer == "es" else steps
    start = time.perf_counter()
    for _ in range(steps):
        batch = task.train_batch(gen, batch_size)
        stepper.step(lambda: task.loss(model(batch.x), batch.y))
    per_step = (time.perf_counter() - start) / steps
    snap = ResumeFile(folder / f"{plan.key}.resume", plan.key)
    writes, reads = [], []
    for _ in range(3):
        start = time.perf_counter()
        snap.save(_snapshot(model, stepper, gen, _Loop(steps, 0.0, 0, 1.0, [0.0] * 10), 10))
        writes.append(time.perf_counter() - start)
        start = time.perf_counter()
        restored = _restore(plan, "cpu", snap.load())
        reads.append(time.perf_counter() - start)
        assert restored is not None
    return per_step, min(writes), min(reads), snap.path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"| cell | params | step | snapshot write | read + restore | size | overhead at {SNAPSHOT_EVERY_S:.0f} s |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for cell in CELLS:
            step, write, read, size = measure(cell, args.steps, Path(tmp))
            params = make_plan(cell).params
            print(f"| {cell.key} | {params} | {step * 1000:.0f} ms | {write * 1000:.0f} ms | {read * 1000:.0f} ms "
                  f"| {size / 1e6:.1f} MB | {write / SNAPSHOT_EVERY_S:.2%} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
