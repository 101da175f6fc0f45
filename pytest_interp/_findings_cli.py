"""`pytest-interp findings`: run every claim file's findings grid and write docs/findings.md.

    pytest-interp findings                      # claims/ -> docs/findings.md, docs/findings/*.json
    pytest-interp findings --only test_induction_heads --seeds 1 --sizes 1k,10k
    pytest-interp findings --render-only        # rewrite the page from the results files
    pytest-interp findings --plan               # how many cells each file needs, how many to train
    pytest-interp findings --stored-only        # measure the cells trained so far, train nothing
    pytest-interp findings --build --workers 2  # train every file's missing cells, cheapest first
    pytest-interp findings --build --file-by-file  # ... one file after another, least left first

Each claim file with a `FINDINGS` constant runs in its own pytest process on its own zoo
file (written beside its results file, so the grid is on record). Trained cells land in the
checkpoint store, so an interrupted run resumes where it stopped. Only a file's run that
finished replaces its results file: an interrupted one leaves the last results as they were
and its own, marked `stopped_early`, beside them as `<file>.partial.json`. A stored-only run
(the results of a long study so far) keeps the last results of the cells its store lacks and
never replaces results that measured more cells; a build trains only cells the results files have
not measured, so a study can move between machines (stores) without training anything twice.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ._zoo_cli import EXECUTORS

    f = sub.add_parser("findings", help="run the claim library's findings grids and write the findings report")
    f.add_argument("claims", nargs="?", type=Path, default=Path("claims"), help="folder of claim files (default claims)")
    f.add_argument("--out", type=Path, default=Path("docs/findings.md"), help="the report (default docs/findings.md)")
    f.add_argument("--results", type=Path, default=None,
                   help="folder for zoo and results files (default: a folder named like --out, without .md)")
    f.add_argument("--only", default=None, help="claim files to run, by name: test_induction_heads,test_lenses")
    f.add_argument("--sizes", default=None, help="size targets (default 1k,10k,100k)")
    f.add_argument("--optimizers", default=None, help="learning algorithms (default sgd,adam,muon,lbfgs,shampoo,es,reptile)")
    f.add_argument("--seeds", type=int, default=None, help="seeds per cell (default 3)")
    f.add_argument("--workers", type=int, default=1, help="pytest-xdist workers per claim file (default 1)")
    f.add_argument("--store", type=Path, default=None, help="checkpoint store (default: the plugin's)")
    f.add_argument("--device", default=None, help="torch device for training and claims: cpu (default), cuda, cuda:N, mps")
    f.add_argument("--render-only", action="store_true", help="only rewrite the report from existing results files")
    f.add_argument("--stored-only", action="store_true",
                   help="train nothing: measure only the cells already in the store (the page says how many are "
                        "missing); a build may write into the store meanwhile")
    f.add_argument("--build", action="store_true",
                   help="measure nothing: train the cells the files' grids still need (that neither the store "
                        "holds nor the results files measured), cheapest first across files (so `--stored-only` "
                        "fills the page fastest), on --workers processes")
    f.add_argument("--file-by-file", action="store_true",
                   help="with --build: finish one file's cells before the next file's, the file with the fewest "
                        "CPU-hours left first, so files turn 'full' one by one (default: cheapest cells first "
                        "across files)")
    f.add_argument("--hours", type=float, default=None,
                   help="with --build: train only the cells the workers should finish within this many hours "
                        "by their estimates (CPU times, typically within 1.5x: leave a margin), so a time-boxed "
                        "machine ends on finished cells; the rest waits for the next build")
    f.add_argument("--executor", choices=EXECUTORS, default="process",
                   help="with --build: where cells train: serial, process (default) or a Ray cluster (`ray` extra)")
    f.add_argument("--plan", action="store_true",
                   help="train nothing: say per file how many cells its grid needs and how many are not stored yet")


def run(args: argparse.Namespace) -> int:
    from ._errors import ConfigError
    from ._grid import parse_size
    from ._options import check_device
    from ._findings_spec import DEFAULT_OPTIMIZERS, DEFAULT_SEEDS, DEFAULT_SIZES, NAME, read_finding, zoo_toml
    from ._findings_results import carry_last, fewer_cells
    from ._report.findings import render
    from ._report.files import write_text
    from ._resume import snapshot_seconds

    try:
        sizes = args.sizes.split(",") if args.sizes else DEFAULT_SIZES
        for s in sizes:
            parse_size(s)
        optimizers = args.optimizers.split(",") if args.optimizers else DEFAULT_OPTIMIZERS
        if not all(NAME.match(o) for o in optimizers):
            raise ConfigError(f"--optimizers {args.optimizers!r}: give names separated by commas")
        seeds = DEFAULT_SEEDS if args.seeds is None else args.seeds
        if not 1 <= seeds <= 100:
            raise ConfigError("--seeds must be in 1..100")
        if args.workers < 1:
            raise ConfigError("--workers must be at least 1")
        if args.device is not None:
            check_device(args.device)
        snapshot_seconds()
        if args.file_by_file and not args.build:
            raise ConfigError("--file-by-file orders a build: give it with --build")
        if args.hours is not None and not args.build:
            raise ConfigError("--hours bounds a build: give it with --build")
        if args.hours is not None and not (0 < args.hours <= 10_000):
            raise ConfigError("--hours must be a number of hours above 0")
        if not args.claims.is_dir():
            raise ConfigError(f"{args.claims} is not a folder of claim files")
        findings = [f for f in (read_finding(p) for p in sorted(args.claims.glob("test_*.py"))) if f is not None]
        only = set(args.only.split(",")) if args.only else None
        if only is not None and not only <= {f.stem for f in findings}:
            raise ConfigError(f"--only: no findings file named {sorted(only - {f.stem for f in findings})}; "
                              f"available: {', '.join(f.stem for f in findings)}")
    except (ConfigError, ValueError, SyntaxError) as exc:
        print(f"pytest-interp findings: error: {exc}", file=sys.stderr)
        return 2
    chosen = [f for f in findings if only is None or f.stem in only]
    if args.plan:
        return _plan(args, chosen, sizes if args.sizes else None, optimizers, seeds)
    if args.build:
        from ._findings_build import build_missing

        return build_missing(args, chosen, sizes if args.sizes else None, optimizers, seeds)
    results_dir = args.results or args.out.with_suffix("")
    results_dir.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    for i, finding in enumerate(chosen, 1):
        if args.render_only:
            break
        zoo = results_dir / f"{finding.stem}.zoo.toml"
        zoo.write_text(zoo_toml(finding, sizes if args.sizes else None, optimizers, seeds), encoding="utf-8")
        out = results_dir / f"{finding.stem}.json"
        partial = results_dir / f"{finding.stem}.partial.json"
        partial.unlink(missing_ok=True)  # an older interrupted run's: never mistaken for this one's
        cmd = [*_pytest(args, finding.path, zoo), f"--interp-json={partial.resolve()}"]
        # stored-only under xdist too: the workers count what was stored when the run started
        if args.workers > 1:
            cmd += ["-n", str(args.workers)]
        print(f"pytest-interp findings: [{i}/{len(chosen)}] {finding.path} on {zoo}", flush=True)
        rc = subprocess.call(cmd, cwd=args.claims.resolve().parent, env=os.environ.copy())
        ok = rc in (0, 1) and _finished(partial)
        if ok and args.stored_only:
            carry_last(partial, out, finding.path, zoo, args.store)
        fewer = fewer_cells(partial, out) if ok and args.stored_only else None
        if ok and fewer is None:
            os.replace(partial, out)  # only a run that finished replaces the file's last results
        elif ok:
            print(f"pytest-interp findings: {finding.path}: {fewer}; {out.name} is left as it was, "
                  f"the stored-only results are in {partial}", file=sys.stderr)
        elif rc == 5 and args.stored_only:  # pytest's "no tests ran": every claim was deselected
            print(f"pytest-interp findings: {finding.path}: none of its cells is in the store yet; "
                  f"{out.name} is left as it was", file=sys.stderr)
        else:
            kept = f"; its results so far are in {partial}" if partial.is_file() else ""
            print(f"pytest-interp findings: {finding.path}: pytest exited with {rc} before the grid finished; "
                  f"{out.name} is left as it was{kept}", file=sys.stderr)
            failed.append(finding.stem)
    docs = []
    for finding in findings:
        path = results_dir / f"{finding.stem}.json"
        docs.append((finding, json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None))
    command = "pytest-interp findings" + (f" --sizes {','.join(sizes)}" if args.sizes else "") + \
        (f" --optimizers {','.join(optimizers)}" if args.optimizers else "") + \
        (f" --seeds {seeds}" if args.seeds is not None else "")
    write_text(args.out, render(docs, command=command, sizes=sizes, optimizers=optimizers, seeds=seeds))
    print(f"pytest-interp findings: report written to {args.out}")
    if failed:
        print(f"pytest-interp findings: these files did not finish: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _finished(results_file: Path) -> bool:
    """The run wrote its results file and did not stop early."""
    try:
        return "stopped_early" not in json.loads(results_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def _pytest(args: argparse.Namespace, claim_file: Path, zoo: Path) -> list[str]:
    """The pytest command that runs one claim file on its zoo file (its own process: a fresh plugin state)."""
    cmd = [sys.executable, "-m", "pytest", str(claim_file.resolve()), f"--interp-models={zoo.resolve()}",
           "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(args.claims.resolve().parent)]
    if args.store is not None:
        cmd.append(f"--interp-store={args.store.resolve()}")
    if args.device is not None:
        cmd.append(f"--interp-device={args.device}")
    if getattr(args, "stored_only", False):
        cmd.append("--interp-stored-only")
    return cmd


def _plan(args: argparse.Namespace, chosen: list[Any], sizes: list[str] | None, optimizers: list[str],
          seeds: int) -> int:
    """Collect each file on its grid (nothing trains) and print the plugin's plan line for it, and
    where its last results measured cells the store lacks, what `--build` would train instead."""
    from ._findings_build import by_optimizer, missing_cells
    from ._findings_results import last_results, measured_cells
    from ._findings_spec import zoo_toml
    from ._store import default_store_dir

    results_dir = args.results or args.out.with_suffix("")
    with tempfile.TemporaryDirectory(prefix="interp-plan-") as tmp:
        for finding in chosen:
            zoo = Path(tmp) / f"{finding.stem}.zoo.toml"
            zoo.write_text(zoo_toml(finding, sizes, optimizers, seeds), encoding="utf-8")
            line = _plan_line(args, finding, zoo)
            if not isinstance(line, str):
                print(f"pytest-interp findings: {finding.path}: could not collect: {line[0]}", file=sys.stderr)
                return 1
            print(f"{finding.stem}: {line}", flush=True)
            doc = last_results(results_dir, finding.stem)
            if measured_cells(doc):
                order, known, _, _ = missing_cells([finding], sizes, optimizers, seeds,
                                                   Path(args.store or default_store_dir()), args.device or "cpu",
                                                   last=[doc])
                estimated = [s for s in known if s is not None]
                hours = f" (about {sum(estimated) / 3600:.1f} CPU-hours for {len(estimated)})" if estimated else ""
                print(f"  `--build` trains {len(order)}{hours}: the others the store lacks are measured in "
                      f"{results_dir / (finding.stem + '.json')}", flush=True)
                if order:
                    print(f"  by learning algorithm: {by_optimizer([c for _, c, _ in order], known)}", flush=True)
    return 0


def _plan_line(args: argparse.Namespace, finding: Any, zoo: Path) -> str | tuple[str]:
    """The plugin's plan line for one file on its zoo file (a collect-only run), or (why not,)."""
    done = subprocess.run([*_pytest(args, finding.path, zoo), "--collect-only", "-q"],
                          cwd=args.claims.resolve().parent, capture_output=True, text=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("pytest-interp: ")), None)
    if done.returncode not in (0, 5) or line is None:
        tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
        return (tail[0],)
    return line.removeprefix("pytest-interp: ")
