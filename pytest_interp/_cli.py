"""The `pytest-interp` console script: merge results files, render reports without re-running.

    pytest-interp merge A.json B.json ... -o OUT.json
    pytest-interp report RESULTS.json [--html OUT.html] [--quiet]
    pytest-interp findings [CLAIMS] [--out docs/findings.md]    (the findings report)

Exit codes: 0 done, 1 an input file is unusable (or entries conflict), 2 bad usage.
Every error is one line on stderr naming the file.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pytest-interp", description="Merge and report pytest-interp results files.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    m = sub.add_parser("merge", help="merge results files (shards, other labs) into one")
    m.add_argument("inputs", nargs="+", type=Path, metavar="RESULTS.json")
    m.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.json")
    r = sub.add_parser("report", help="print the transfer matrices and trends of a results file; write HTML")
    r.add_argument("input", type=Path, metavar="RESULTS.json")
    r.add_argument("--html", type=Path, metavar="OUT.html", help="write the self-contained HTML page here")
    r.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    from ._zoo_cli import add_parser as add_zoo_parser

    add_zoo_parser(sub)
    from ._findings_cli import add_parser as add_findings_parser

    add_findings_parser(sub)
    return p


def _merge(args: argparse.Namespace) -> int:
    from ._report.merge import load_results, merge
    from ._report.results import write

    docs = [(str(path), load_results(path)) for path in args.inputs]
    doc = merge(docs)
    write(args.output, doc)
    print(f"pytest-interp: merged {len(docs)} files, {len(doc['results'])} results -> {args.output}")
    return 0


def _complete(doc: dict[str, Any]) -> dict[str, Any]:
    """Verdicts and trends for a file that lacks them (written by hand or by an older tool)."""
    from ._report.merge import quorum_of
    from ._report.trend import trends

    if "verdicts" not in doc:
        from ._report.results import sort_key
        from ._verdicts import aggregate

        quorum = quorum_of(str((doc.get("grid") or {}).get("quorum", "all")))
        doc["verdicts"] = sorted(aggregate(doc["results"], quorum), key=lambda v: sort_key({**v, "seed": 0}))
    if "trends" not in doc:
        doc["trends"] = trends(doc["verdicts"])
    return doc


def _report(args: argparse.Namespace) -> int:
    from ._report.merge import load_results

    doc = _complete(load_results(args.input))
    if not args.quiet:
        from ._report.terminal import render
        from ._report.merge import quorum_of
        from ._report.trend import terminal_lines

        enc = (getattr(sys.stdout, "encoding", None) or "").lower()
        quorum = quorum_of(str((doc.get("grid") or {}).get("quorum", "all")))
        for line in render(doc["results"], unicode="utf" in enc, quorum=quorum):
            print(line)
        if doc["trends"]:
            print("scale trends (metric against log10 parameters, least squares):")
            for line in terminal_lines(doc["trends"]):
                print(line)
    if args.html is not None:
        from ._report.files import write_text
        from ._report.html import render as render_html

        write_text(args.html, render_html(doc, title=f"pytest-interp report: {args.input.name}"))
        if not args.quiet:
            print(f"pytest-interp: HTML report written to {args.html}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except BrokenPipeError:  # the reader stopped reading (`zoo list | head`): end quietly, as `ls | head` does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush would raise again
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    from ._report.merge import ResultsFileError

    if args.command == "zoo":
        from ._zoo_cli import run as run_zoo

        return run_zoo(args)
    if args.command == "findings":
        from ._findings_cli import run as run_findings

        return run_findings(args)
    try:
        return _merge(args) if args.command == "merge" else _report(args)
    except ResultsFileError as exc:
        print(f"pytest-interp: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise
    except OSError as exc:
        print(f"pytest-interp: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
