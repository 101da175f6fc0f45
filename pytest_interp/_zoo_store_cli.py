"""`pytest-interp zoo list` and `zoo prune`: what the checkpoint store holds, and clearing out the
snapshots no build will go on from.

    pytest-interp zoo list                     # every cell trained, and training left half-way
    pytest-interp zoo list --match 100k-es     # only cells whose name has this in it
    pytest-interp zoo prune --dry-run          # what prune would remove
    pytest-interp zoo prune --older-than 7     # snapshots and temporary files 7 days old or more
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

#: days a snapshot waits for its cell to be asked for again before `prune` removes it
DEFAULT_DAYS = 30.0


def add_parsers(zsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    store_help = "checkpoint store (default: $PYTEST_INTERP_STORE or the user cache)"
    ls = zsub.add_parser("list", help="list the store's checkpoints and the snapshots of interrupted training")
    ls.add_argument("--store", type=Path, help=store_help)
    ls.add_argument("--match", default=None, help="only cells whose name contains this text")
    pr = zsub.add_parser("prune", help="remove old snapshots of interrupted training, temporary and damaged files")
    pr.add_argument("--store", type=Path, help=store_help)
    pr.add_argument("--older-than", type=float, default=DEFAULT_DAYS, metavar="DAYS",
                    help=f"remove snapshots and temporary files not written for this many days (default "
                         f"{DEFAULT_DAYS:g}; 0: all of them, stop running builds first); checkpoints that load "
                         f"are never removed")
    pr.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")


def run(args: argparse.Namespace) -> int:
    from ._store import default_store_dir

    root = Path(args.store or default_store_dir())
    if root.exists() and not root.is_dir():
        print(f"pytest-interp: store {root} is not a folder", file=sys.stderr)
        return 2
    if args.zoo_command == "list":
        return _list(root, args.match)
    if not (math.isfinite(args.older_than) and args.older_than >= 0):
        print("pytest-interp: --older-than must be a number of days, 0 or more", file=sys.stderr)
        return 2
    return _prune(root, args.older_than, args.dry_run)


def _list(root: Path, match: str | None) -> int:
    from ._store_contents import contents, outcome

    entries = [e for e in contents(root) if match is None or match in (e.cell or e.path.stem)]
    checkpoints = [e for e in entries if e.kind == "checkpoint"]
    snapshots = [e for e in entries if e.kind == "snapshot"]
    other = [e for e in entries if e.kind in ("damaged", "temporary")]
    which = f" matching {match!r}" if match is not None else ""
    print(f"pytest-interp: store {root}{which}: {len(checkpoints)} checkpoints ({_mb(checkpoints)}), "
          f"{len(snapshots)} snapshots of interrupted training ({_mb(snapshots)})"
          + (f", {len(other)} damaged or temporary files (`zoo prune` removes them)" if other else ""))
    if checkpoints:
        width = max(len(e.cell or e.path.stem) for e in checkpoints)
        print(f"  {'cell':<{width}}  {'steps':>6}  {'seconds':>8}  {'test acc':>8}  outcome")
        for e in checkpoints:
            m = e.info
            print(f"  {_text(e.cell or e.path.stem):<{width}}  {_num(m.get('steps'), '{:d}'):>6}  "
                  f"{_num(m.get('seconds'), '{:.0f}'):>8}  {_num(m.get('test_accuracy'), '{:.3f}'):>8}  {outcome(e)}")
    if snapshots:
        print("snapshots (the next run that needs the cell goes on from there):")
        now = time.time()
        width = max(len(e.cell or e.path.stem) for e in snapshots)
        for e in snapshots:
            at = "unreadable" if e.info.get("unreadable") else _position(e.info)
            print(f"  {_text(e.cell or e.path.stem):<{width}}  {at}, {_age(now - e.modified)}"
                  + (f" ({_text(str(e.info['device']))})" if e.info.get("device") not in (None, "cpu") else ""))
    return 0


def _age(seconds: float) -> str:
    """'written 5 min ago'; a file dated ahead of this clock (a store copied from a machine whose clock
    runs ahead) says so rather than reading as just written."""
    from ._zoo_build import duration

    if seconds < -1:
        return f"dated {duration(-seconds)} ahead of this machine's clock"
    return f"written {duration(max(seconds, 0.0))} ago"


def _prune(root: Path, days: float, dry_run: bool) -> int:
    from ._store_contents import prune

    gone = prune(root, days * 86400, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for e in gone:
        print(f"  {verb} {e.kind} {_text(e.cell or e.path.name)}")
    print(f"pytest-interp: {verb} {len(gone)} files ({_mb(gone)}) from {root}: snapshots and temporary files "
          f"not written for {days:g} days, damaged checkpoints")
    return 0


def _position(info: dict[str, object]) -> str:
    step, steps = info.get("step"), info.get("steps")
    if step == 0:
        return "meta-training (before step 1)"
    if not isinstance(step, int):
        return "step unknown"
    return f"step {step}" + (f" of {steps}" if isinstance(steps, int) else "")


def _num(value: object, fmt: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-"
    return fmt.format(int(value) if fmt == "{:d}" else value)


def _mb(entries: list) -> str:  # type: ignore[type-arg]
    return f"{sum(e.size for e in entries) / 1e6:.1f} MB"


def _text(value: str) -> str:
    """A name read from a file, printable: headers are other people's bytes."""
    return "".join(ch if ch.isprintable() else "?" for ch in value)
