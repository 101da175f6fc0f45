"""`pytest-interp zoo build SPEC`: train the missing cells of a grid, in parallel, into a store
(`zoo list` and `zoo prune`, what the store holds, are in zoo_store_cli.py).

    pytest-interp zoo build default --tasks sparse-parity --executor process --workers 2
    pytest-interp zoo build zoo.toml --executor ray
    pytest-interp zoo build default --store fixtures/zoo --manifest fixtures/zoo/manifest.json
    pytest-interp zoo build default --claims claims/     # the cells claims/ asks for: tasks, options, siblings

SPEC is what `--interp-models` takes (families, a preset, a zoo file); the other options
mirror the plugin's. With --manifest, the result is a prebuilt zoo (see fixtures/README.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

#: kept here (not imported from zoo_build) so `pytest-interp --help` does not import torch
EXECUTORS = ("serial", "process", "ray")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    zoo = sub.add_parser("zoo", help="build checkpoints of a grid")
    zsub = zoo.add_subparsers(dest="zoo_command", required=True, metavar="ZOO_COMMAND")
    b = zsub.add_parser("build", help="train the missing cells of a grid into the store")
    b.add_argument("spec", help="families (mlp,cnn), a preset (default) or a zoo file")
    b.add_argument("--sizes", help="parameter-count targets, e.g. 1k,10k")
    b.add_argument("--optimizers", help="learning algorithms, e.g. sgd,adam")
    b.add_argument("--seeds", help="seeds per cell")
    b.add_argument("--tasks", default=None, help="tasks to train on (default: the default task)")
    b.add_argument("--claims", type=Path, default=None,
                   help="a folder of claim files: build the tasks (and task options) their claims use")
    b.add_argument("--store", type=Path, help="checkpoint store (default: $PYTEST_INTERP_STORE or the user cache)")
    b.add_argument("--executor", choices=EXECUTORS, default="process", help="serial, process (default) or ray")
    b.add_argument("--workers", type=int, default=2, help="parallel workers (default 2)")
    b.add_argument("--manifest", type=Path, help="also write a manifest of the built cells (prebuilt zoos)")
    from ._zoo_store_cli import add_parsers

    add_parsers(zsub)


def run(args: argparse.Namespace) -> int:
    if args.zoo_command != "build":
        from ._zoo_store_cli import run as run_store

        return run_store(args)
    from ._errors import ConfigError
    from ._grid import check_names, parse_list, parse_models, parse_seeds, parse_sizes
    from ._algorithms import ALGORITHMS
    from ._store import default_store_dir
    from ._tasks import DEFAULT_TASK, TASKS
    from ._cell_plan import claim_cells
    from ._resume import snapshot_seconds
    from ._zoo_build import build, printed_heartbeat, printed_progress, write_manifest

    try:
        grid = parse_models(args.spec, Path.cwd())
        if args.sizes:
            grid = replace(grid, sizes=parse_sizes(args.sizes))
        if args.optimizers:
            grid = replace(grid, optimizers=check_names(parse_list(args.optimizers, "optimizers"), ALGORITHMS))
        if args.seeds:
            grid = replace(grid, seeds=parse_seeds(args.seeds))
        tasks = check_names(parse_list(args.tasks, "tasks"), TASKS) if args.tasks else ()
        files: list[Path] = []
        if args.claims is not None:
            from ._claim_tasks import claim_tasks

            if not args.claims.is_dir():
                raise ConfigError(f"--claims {args.claims}: not a folder")
            files = sorted(args.claims.glob("test_*.py"))
            check_names([t for t, _ in claim_tasks(files)], TASKS)
        if args.workers < 1:
            raise ConfigError("--workers must be at least 1")
        snapshot_seconds()
    except (ConfigError, SyntaxError) as exc:
        print(f"pytest-interp: {exc}", file=sys.stderr)
        return 2
    store = args.store or default_store_dir()
    # the --tasks' cells, then those the claims ask for (with the other seeds they declare)
    named = tasks or (() if files else (DEFAULT_TASK,))
    cells = list(dict.fromkeys([*(c for t in named for c in grid.cells(t) if not c.source), *claim_cells(grid, files)]))
    start = time.perf_counter()
    print(f"pytest-interp: building {len(cells)} cells into {store} ({args.executor}, {args.workers} workers)")
    built = build(cells, store, executor=args.executor, workers=args.workers, hparams=grid.hparams,
                  budget=grid.budget, progress=printed_progress(start), heartbeat=printed_heartbeat(start))
    trained = sum(b.trained for b in built)
    print(f"pytest-interp: {trained} trained, {len(built) - trained} already there, "
          f"{time.perf_counter() - start:.1f}s")
    if args.manifest:
        for lock in Path(store).rglob("*.lock"):
            lock.unlink()
        note = f"pytest-interp zoo build {args.spec}" + (f" --tasks {','.join(tasks)}" if tasks else "") + \
            (f" --claims {args.claims.as_posix()}" if args.claims is not None else "") + \
            "".join(f" --{k} {v}" for k, v in (("sizes", args.sizes), ("optimizers", args.optimizers),
                                               ("seeds", args.seeds)) if v)
        write_manifest(args.manifest, built, cells, note=note)
        print(f"pytest-interp: manifest written to {args.manifest}")
    return 0
