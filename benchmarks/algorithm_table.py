"""Print a markdown table: test accuracy (and steps) each learning algorithm reaches on each family.

Sparse parity (the default task and budget) at one size and seed, trained exactly as the
plugin trains a cell, one torch thread. With --cache FILE, results are kept in a JSON file
keyed by the cell's plan key, so an interrupted run resumes (the key does not cover the
algorithms' code: delete the file after changing it). Progress goes to stderr.

    python benchmarks/algorithm_table.py                      # every family x every algorithm
    python benchmarks/algorithm_table.py --families mlp,transformer --algorithms es
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from pytest_interp._algorithms import ALGORITHMS
from pytest_interp._families import FAMILIES
from pytest_interp._grid import Cell
from pytest_interp._train import make_plan, train

#: DESIGN.md's order; anything registered later follows, alphabetically.
ALGORITHM_ORDER = ["sgd", "adam", "adamw", "muon", "lbfgs", "shampoo", "es", "reptile"]
FAMILY_ORDER = ["mlp", "transformer", "attn-only", "cnn", "lstm", "gru", "ssm"]


def ordered(names: list[str], order: list[str]) -> str:
    return ",".join([n for n in order if n in names] + [n for n in names if n not in order])


def run_cell(cell: Cell, cache: dict[str, Any]) -> dict[str, Any]:
    plan = make_plan(cell)
    if plan.key not in cache:
        start = time.perf_counter()
        _, metrics = train(plan)
        cache[plan.key] = {**metrics, "seconds": round(time.perf_counter() - start, 1), "cell": cell.key}
    return cache[plan.key]


def describe(m: dict[str, Any], budget: int) -> str:
    if m["diverged"]:
        return f"diverged (step {m['steps']})"
    text = f"{m['test_accuracy']:.2f} ({m['steps']})"
    return f"**{text}**" if m["reached"] else text + (" untrained" if m["steps"] >= budget else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default=ordered(FAMILIES.names(), FAMILY_ORDER))
    ap.add_argument("--algorithms", default=ordered(ALGORITHMS.names(), ALGORITHM_ORDER))
    ap.add_argument("--size", default="10k")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=None, help="JSON file to resume from and save to")
    args = ap.parse_args(argv)
    families, algorithms = args.families.split(","), args.algorithms.split(",")
    cache: dict[str, Any] = json.loads(args.cache.read_text()) if args.cache and args.cache.exists() else {}
    torch.set_num_threads(1)
    rows: dict[str, list[str]] = {}
    budget = 0
    for algo in algorithms:
        rows[algo] = []
        for fam in families:
            cell = Cell(fam, args.size, algo, "sparse-parity", args.seed)
            budget = make_plan(cell).budget["steps"]
            m = run_cell(cell, cache)
            if args.cache:
                args.cache.write_text(json.dumps(cache, indent=1, sort_keys=True))
            print(f"{algo:8s} {fam:12s} {describe(m, budget)}  {m['seconds']}s", file=sys.stderr, flush=True)
            rows[algo].append(describe(m, budget))
    print(f"Sparse parity, {args.size} parameters, seed {args.seed}: held-out accuracy (steps taken; "
          f"budget {budget}); bold = reached the target.\n")
    print("| algorithm | " + " | ".join(families) + " |")
    print("|---|" + "---|" * len(families))
    for algo, cells in rows.items():
        print(f"| `{algo}` | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
