"""The findings report: each claim file's transfer matrices beside the paper's reported direction.

Each claim file's grid and docstring sections come from `_findings_spec` (read without running
the file). The summary's grid column says, per file, whether its results cover the page's grid
or what they lack, so a reduced run is never read as the full one. The plain-words summaries
are computed from the verdicts, so the page says what was measured, not what we hoped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from .._findings_spec import SECTIONS, Finding, ordered_optimizers
from .._grid import parse_size
from .._verdicts import metric_names

SYMBOL = {"holds": "✓", "breaks": "✗", "n/a": "·", "untrained": "?", "error": "E"}


# ---------------------------------------------------------------- rendering


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _cell(results: Sequence[Mapping[str, Any]]) -> str:
    """One symbol per seed, in seed order (○ for a hold that is vacuous), as in the terminal report."""
    return "".join("○" if r["outcome"] == "holds" and r.get("vacuous") else SYMBOL.get(r["outcome"], "E")
                   for r in sorted(results, key=lambda r: r["seed"]))


def _number(x: Any) -> str:
    if x is None:
        return "–"
    x = float(x)
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.2e}"


def _measure(v: Mapping[str, Any], name: str) -> str:
    """The verdict's mean of one metric (its null in brackets); a cell that measured none shows its
    verdict's symbol, one decided by another of the claim's checks a dash."""
    ms = v.get("measurements") or []
    if not ms:
        return SYMBOL.get(v["verdict"], "")
    m = next((m for m in ms if m.get("name") == name), None)
    if m is None:
        return "–"
    text = _number(m.get("mean"))
    null = m.get("null")
    if isinstance(null, Mapping) and null.get("mean") is not None:
        text += f" ({_number(null['mean'])})"
    return text


def _size_key(size: str) -> int:
    try:
        return parse_size(size)
    except ValueError:
        return 0


@dataclass
class Tally:
    """Seed outcomes along one axis value."""

    holding: int = 0
    decided: int = 0
    seeds: int = 0
    untrained: int = 0
    na: int = 0
    error: int = 0
    vacuous: int = 0

    def add(self, r: Mapping[str, Any]) -> None:
        self.seeds += 1
        kind = r["outcome"]
        if kind in ("holds", "breaks"):
            self.decided += 1
            self.holding += kind == "holds"
            self.vacuous += bool(kind == "holds" and r.get("vacuous"))
        elif kind == "untrained":
            self.untrained += 1
        elif kind == "n/a":
            self.na += 1
        else:
            self.error += 1


def _undecided(t: Tally) -> dict[str, int]:
    return {"n/a": t.na, "untrained": t.untrained, "error": t.error}


def _word(t: Tally) -> str:
    if not t.decided:  # the commonest reason (a family mostly n/a with a few untrained seeds is n/a)
        counts = _undecided(t)
        return max(counts, key=lambda k: counts[k])
    share = t.holding / t.decided
    return "holds" if share >= 0.8 else "breaks" if share <= 0.2 else "mixed"


def axis_summary(results: Sequence[Mapping[str, Any]], axis: str, order: Sequence[str]) -> str:
    """One sentence: how the claim fares along one axis, in seeds holding over decided seeds."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for r in results:
        tallies[str(r[axis])].add(r)
    groups: dict[str, list[str]] = defaultdict(list)
    for value in order:
        if value in tallies:
            t = tallies[value]
            word = _word(t)
            detail = f"{t.holding}/{t.decided}" if t.decided else ""
            extra = [f"{n} {w}" for w, n in _undecided(t).items()
                     if n and (t.decided and w != "n/a" or not t.decided and w != word)]
            if t.vacuous:
                extra.append(f"{t.vacuous} vacuous")
            inner = "; ".join(x for x in (detail, ", ".join(extra)) if x)
            groups[word].append(value + (f" ({inner})" if inner else ""))
    words = {"family": "for", "size": "at", "optimizer": "under"}[axis]
    decided = [w for w in ("holds", "breaks", "mixed") if groups.get(w)]
    if decided == ["holds"]:
        head = "transfers: "
    elif decided == ["breaks"]:
        head = "breaks throughout: "
    elif decided:
        head = "depends on it: "
    else:
        head = "no decided cell: "
    parts = [f"{w} {words} {', '.join(groups[w])}" for w in ("holds", "mixed", "breaks", "untrained", "error", "n/a")
             if groups.get(w)]
    return head + "; ".join(parts) + "."


Key = tuple[str, str | None]


def _by_claim(rows: Iterable[Mapping[str, Any]]) -> dict[Key, list[Mapping[str, Any]]]:
    out: dict[Key, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        out[(row["claim"], row.get("variant"))].append(row)
    return out


def _first_doc_line(results: Sequence[Mapping[str, Any]]) -> str | None:
    return next((r["doc"].strip().splitlines()[0] for r in results if (r.get("doc") or "").strip()), None)


def render_claim(claim: str, variant: str | None, results: Sequence[Mapping[str, Any]],
                 verdicts: Sequence[Mapping[str, Any]]) -> list[str]:
    """One claim's matrix (family x size rows, learning algorithms as columns), summaries and metric table."""
    families = list(dict.fromkeys(r["family"] for r in results))
    sizes = sorted({r["size"] for r in results}, key=_size_key)
    optimizers = ordered_optimizers(r["optimizer"] for r in results)
    cells: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for r in results:
        cells[(r["family"], r["size"], r["optimizer"])].append(r)
    name = claim.split("::")[-1] + (f"[{variant}]" if variant else "")
    out = [f"### `{name}`", ""]
    first_line = _first_doc_line(results)
    if first_line:
        out += [f"*{_md(first_line)}*", ""]
    head = "| family | size | " + " | ".join(optimizers) + " |"
    rule = "|---|---|" + "---|" * len(optimizers)
    out += [head, rule]
    for fam in families:
        for size in sizes:
            row = [_md(_cell(cells[(fam, size, o)])) if (fam, size, o) in cells else "" for o in optimizers]
            out.append(f"| {fam} | {size} | " + " | ".join(row) + " |")
    out += ["", f"- **Families** — {axis_summary(results, 'family', families)}",
            f"- **Sizes** — {axis_summary(results, 'size', sizes)}",
            f"- **Learning algorithms** — {axis_summary(results, 'optimizer', optimizers)}", ""]
    table = {(v["family"], v["size"], v["optimizer"]): v for v in verdicts}
    asked: dict[str, Mapping[str, Any]] = {}  # each metric's first verdict entry: its op and threshold
    for v in verdicts:
        for m in v.get("measurements") or []:
            asked.setdefault(m["name"], m)
    # in the order the results measured them; not those only uncounted seeds (untrained, errors) measured
    measured = metric_names(results)
    for name in [n for n in measured if n in asked] + [n for n in asked if n not in measured]:
        grid = [(fam, size, [_measure(table[(fam, size, o)], name) if (fam, size, o) in table else ""
                             for o in optimizers]) for fam in families for size in sizes]
        note = ["", "– : an earlier check of the claim decided the cell; this metric was not measured there."] \
            if any("–" in row for _, _, row in grid) else []
        out += [f"<details><summary>{_md(name)}: mean over seeds, its null in brackets "
                f"(the claim asks {_md(asked[name].get('op'))} {_number(asked[name].get('threshold'))})</summary>",
                "", head, rule, *(f"| {fam} | {size} | " + " | ".join(_md(c) for c in row) + " |" for fam, size, row in grid),
                *note, "", "</details>", ""]
    return out


def _first_sentence(text: str, limit: int = 240) -> str:
    """The summary table's short form of a direction: its first sentence, at most `limit` characters."""
    m = re.match(r"(.+?\.)(\s|$)", text)
    first = m.group(1) if m else text
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def overall(results: Sequence[Mapping[str, Any]]) -> Tally:
    t = Tally()
    for r in results:
        t.add(r)
    return t


def coverage(grid: Mapping[str, Any], sizes: Sequence[str], optimizers: Sequence[str], seeds: int,
             stopped_early: str | None = None, not_stored: Sequence[str] = (), measured: Iterable[str] = ()) -> str:
    """'full' when a results file covers the page's grid, else what it lacks, so a reduced run is never
    mistaken for the full one (nor a run that stopped early, nor a stored-only run that left cells
    out, whatever grid it declares)."""
    short = [f"stopped early ({stopped_early})"] if stopped_early else []
    if not_stored:
        short.append(f"{len(set(not_stored))} of {len(set(measured) | set(not_stored))} cells not trained yet")
    missing_sizes = [s for s in sizes if s not in (grid.get("sizes") or [])]
    if missing_sizes:
        short.append("no " + ", ".join(missing_sizes))
    missing_opts = [o for o in ordered_optimizers(optimizers) if o not in (grid.get("optimizers") or [])]
    if missing_opts:
        short.append("no " + ", ".join(missing_opts))
    ran = grid.get("seeds")
    if not isinstance(ran, int) or ran < seeds:
        short.append(f"{ran if isinstance(ran, int) else '?'} of {seeds} seeds")
    return "full" if not short else "reduced: " + "; ".join(short)


def render(findings: Sequence[tuple[Finding, Mapping[str, Any] | None]], *, command: str,
           sizes: Sequence[str], optimizers: Sequence[str], seeds: int) -> str:
    """docs/findings.md from each finding and its results document (None: not run yet)."""
    out = ["# Findings: do published interpretability findings transfer?", "",
           f"Generated by `{command}` from the claim files in `claims/`; do not edit by hand.",
           "Each claim runs on the families its file names (its `FINDINGS` constant) at sizes "
           f"{', '.join(sizes)}, under {', '.join(ordered_optimizers(optimizers))} (plus any a file adds), "
           f"with {seeds} seed(s) per cell; each section says the grid its results file was run on. "
           "The raw results files and zoo files lie beside this page in `docs/findings/`.", "",
           "Legend, one symbol per seed: ✓ holds · ✗ breaks · "
           "? untrained (the model never reached its task's target, so there is no verdict) · "
           "· n/a (the family lacks a site the claim needs) · E error · ○ vacuous (it holds on the "
           "untrained control too). Summaries count seeds holding over seeds decided (holds or breaks); "
           "'holds' means at least 80% of them hold, 'breaks' at most 20%.", "",
           "## Summary", "",
           "The grid column says whether a file's results cover the grid above ('full') or what they lack; "
           "'N of M cells not trained yet' marks a grid still training, measured on the cells trained so far "
           "(`pytest-interp findings --stored-only`).", "",
           "| claim file | grid | paper's direction | claim | seeds holding / decided | seeds untrained |",
           "|---|---|---|---|---|---|"]
    body: list[str] = []
    for finding, doc in findings:
        direction = _first_sentence(finding.sections.get("Direction reported", ""))
        body += [f"## {_md(finding.title)}", "", f"`claims/{finding.path.name}`", ""]
        for name in SECTIONS:
            if name in finding.sections:
                body += [f"**{name}:** {finding.sections[name]}", ""]
        if doc is None:
            out.append(f"| `{finding.path.name}` | not run | {_md(direction)} | | | |")
            body += ["*Not run yet.*", ""]
            continue
        grid = doc.get("grid") or {}
        measured = {r["cell"] for r in doc.get("results", [])}
        cover = coverage(grid, sizes, optimizers, seeds, doc.get("stopped_early"), doc.get("not_stored") or (), measured)
        body += [f"Grid run: {', '.join(grid.get('families') or [])} × {', '.join(grid.get('sizes') or [])} × "
                 f"{', '.join(grid.get('optimizers') or [])} × {grid.get('seeds', '?')} seed(s) "
                 f"({'the full grid' if cover == 'full' else _md(cover.replace('reduced: ', 'reduced grid: '))}).", ""]
        verdicts = _by_claim(doc.get("verdicts", []))
        for key, results in sorted(_by_claim(doc.get("results", [])).items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            t = overall(results)
            name = key[0].split("::")[-1] + (f"[{key[1]}]" if key[1] else "")
            out.append(f"| `{finding.path.name}` | {_md(cover)} | {_md(direction)} | `{name}` | {t.holding}/{t.decided} "
                       f"| {t.untrained}/{t.seeds} |")
            direction = cover = "〃"
            body += render_claim(key[0], key[1], results, verdicts.get(key, []))
        body += [f"*{len(measured)} cells, {len(doc.get('results', []))} results.*", ""]
    return "\n".join(out + [""] + body).rstrip() + "\n"
