"""Training on a GPU against one CPU core, cell by cell, side by side in one run.

    python benchmarks/bench_device.py [--device cuda] [--steps 20]

Each cell trains for the same few steps on the CPU (one torch thread, as the zoo trains) and on
the device, from the same seed, with the cell's real budget otherwise (batch size, algorithm
hyperparameters); early stopping is off so both run every step. The cells are the costly ones of
the findings grids (docs/performance.md: the batch-2048 modular-addition cells, ES). Ratios only:
the machine may be shared. Exits 2 where the device is missing.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from pytest_interp._grid import Cell
from pytest_interp._options import check_device
from pytest_interp._errors import ConfigError
from pytest_interp._train import make_plan, train

CELLS = [
    Cell("transformer", "100k", "adam", "modular-addition", 0),
    Cell("transformer", "100k", "lbfgs", "modular-addition", 0),
    Cell("transformer", "100k", "es", "modular-addition", 0),
    Cell("transformer", "10k", "shampoo", "modular-addition", 0),
    Cell("transformer", "100k", "es", "repeated-tokens", 0),
    Cell("lstm", "100k", "adam", "repeated-tokens", 0),
    Cell("ssm", "100k", "es", "char-text", 0, (("context", 32),)),
]


def seconds_per_step(cell: Cell, device: str, steps: int) -> float:
    steps = max(2, steps // 5) if cell.optimizer == "es" else steps  # 65 forward passes a step
    plan = make_plan(cell, budget={"steps": steps, "eval_every": steps})
    plan.task.early_stop = False  # every step runs on both devices
    train(make_plan(cell, budget={"steps": 1, "eval_every": 1}), device)  # warm-up: kernels, caches
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    train(plan, device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    try:
        check_device(args.device)
    except ConfigError as exc:
        print(f"bench_device: {exc}", file=sys.stderr)
        return 2
    print(f"{'cell':<44} {'cpu s/step':>11} {args.device + ' s/step':>12} {'cpu / ' + args.device:>11}")
    for cell in CELLS:
        cpu = seconds_per_step(cell, "cpu", args.steps)
        dev = seconds_per_step(cell, args.device, args.steps)
        print(f"{cell.key:<44} {cpu:11.4f} {dev:12.4f} {cpu / dev:10.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
