"""The terminal transfer matrix: one symbol per cell, one line per axis saying where a claim stops holding."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

from .._grid import parse_size
from .._outcomes import BREAKS, ERROR, HOLDS, NA, UNTRAINED
from .._verdicts import verdict_kind

VACUOUS = "vacuous"
UNICODE = {HOLDS: "✓", VACUOUS: "○", BREAKS: "✗", NA: "·", UNTRAINED: "?", ERROR: "E"}
ASCII = {HOLDS: "+", VACUOUS: "o", BREAKS: "x", NA: ".", UNTRAINED: "?", ERROR: "E"}

Result = Mapping[str, Any]


def symbols(unicode: bool) -> dict[str, str]:
    return UNICODE if unicode else ASCII


def legend(unicode: bool) -> str:
    sym = symbols(unicode)
    return "legend: " + "  ".join(f"{sym[o]} {o}" for o in (HOLDS, VACUOUS, BREAKS, NA, UNTRAINED, ERROR)) + \
        "  (vacuous: holds on the untrained control too)"


def _size_order(size: str) -> int:
    try:
        return parse_size(size)
    except ValueError:
        return 0


def verdict_of(outcomes: Sequence[str]) -> str:
    """Aggregate outcomes along an axis value: decided ones (holds/breaks) win over the rest."""
    decided = [o for o in outcomes if o in (HOLDS, BREAKS, "mixed")]
    if decided:
        if all(o == HOLDS for o in decided):
            return HOLDS
        if all(o == BREAKS for o in decided):
            return BREAKS
        return "mixed"
    for o in (ERROR, UNTRAINED, NA):
        if o in outcomes:
            return o
    return NA


def axis_line(values: Sequence[str], verdicts: Mapping[str, str], axis: str) -> str:
    """'holds for mlp; breaks for transformer', or for sizes 'holds up to 10k, breaks from 100k'."""
    if axis == "size":
        seq = [verdicts[v] for v in values]
        decided = [(v, verdicts[v]) for v in values if verdicts[v] in (HOLDS, BREAKS)]
        kinds = [k for _, k in decided]
        if decided and len(set(kinds)) == 2:
            first = kinds[0]
            switch = next(i for i, k in enumerate(kinds) if k != first)
            if all(k == first for k in kinds[:switch]) and all(k != first for k in kinds[switch:]):
                return f"{first} up to {decided[switch - 1][0]}, {kinds[switch]} from {decided[switch][0]}" + _rest(values, verdicts)
        if decided and len(set(kinds)) == 1 and len(set(seq)) == 1:
            return f"{kinds[0]} at every size ({', '.join(values)})"
    groups: dict[str, list[str]] = defaultdict(list)
    for v in values:
        groups[verdicts[v]].append(v)
    word = {"family": "for", "size": "at", "optimizer": "under", "task": "on"}.get(axis, "for")
    order = [HOLDS, BREAKS, "mixed", UNTRAINED, ERROR, NA]
    return "; ".join(f"{k} {word} {', '.join(groups[k])}" for k in order if groups.get(k))


def _rest(values: Sequence[str], verdicts: Mapping[str, str]) -> str:
    others = [f"{verdicts[v]} at {v}" for v in values if verdicts[v] not in (HOLDS, BREAKS)]
    return ("; " + "; ".join(others)) if others else ""


def _cell_text(per_seed: Mapping[int, Mapping[str, Any]], seeds: Sequence[int], verdict: Mapping[str, Any] | None,
               sym: Mapping[str, str]) -> str:
    marks = []
    for seed in seeds:
        r = per_seed.get(seed)
        if r is None:
            marks.append(" ")
        elif r["outcome"] == HOLDS and r.get("vacuous"):
            marks.append(sym[VACUOUS])
        else:
            marks.append(sym.get(r["outcome"], "?"))
    text = "".join(marks)
    if len(seeds) > 1 and verdict is not None and verdict["seeds_holding"] + _decided_breaks(per_seed) > 0:
        text += f" {verdict['seeds_holding']}/{verdict['seeds_run']}"
    return text


def _decided_breaks(per_seed: Mapping[int, Mapping[str, Any]]) -> int:
    return sum(r["outcome"] == BREAKS for r in per_seed.values())


def render_claim(claim: str, results: Sequence[Result], verdicts: Sequence[Result], unicode: bool = True,
                 quorum: str = "1") -> list[str]:
    sym = symbols(unicode)
    tasks = sorted({r["task"] for r in results})
    families = sorted({r["family"] for r in results})
    sizes = sorted({r["size"] for r in results}, key=_size_order)
    optimizers = sorted({r["optimizer"] for r in results})
    seeds = sorted({r["seed"] for r in results})
    by_cell: dict[tuple[str, str, str, str], dict[int, Result]] = defaultdict(dict)
    for r in results:
        by_cell[(r["task"], r["family"], r["optimizer"], r["size"])][r["seed"]] = r
    verdict_at = {(v["task"], v["family"], v["optimizer"], v["size"]): v for v in verdicts}
    counts: dict[str, int] = defaultdict(int)
    for v in verdicts:
        counts["vacuous" if v["vacuous"] else verdict_kind(v["verdict"])] += 1
    order = (HOLDS, "vacuous", BREAKS, "mixed", UNTRAINED, NA, ERROR)
    summary = ", ".join(f"{counts[o]} {o}" for o in order if counts[o])
    lines = [f"{claim}  [task {', '.join(tasks)}]  {summary}"]
    texts = {key: _cell_text(per_seed, seeds, verdict_at.get(key), sym) for key, per_seed in by_cell.items()}
    fw = max(len(f) for f in families)
    ow = max(len(o) for o in optimizers)
    cw = {s: max([len(s)] + [len(t) for (_, _, _, size), t in texts.items() if size == s]) for s in sizes}
    lines.append("  " + " " * (fw + ow + 4) + "  ".join(s.rjust(cw[s]) for s in sizes))
    for task in tasks:
        for fam in families:
            for opt in optimizers:
                cells = [texts.get((task, fam, opt, s), "").rjust(cw[s]) for s in sizes]
                lines.append(f"  {fam.ljust(fw)}  {opt.ljust(ow)}  " + "  ".join(cells))
    for axis, values in (("family", families), ("size", sizes), ("optimizer", optimizers)):
        per_value = {v: verdict_of([verdict_kind(x["verdict"]) for x in verdicts if x[axis] == v]) for v in values}
        lines.append(f"  {axis + ':':<10} {axis_line(values, per_value, axis)}")
    param_counts = []
    for fam in families:
        per_size = [next((r.get("params") for r in results if r["family"] == fam and r["size"] == s
                          and r.get("params")), None) for s in sizes]
        if any(p is not None for p in per_size):
            param_counts.append(f"{fam} " + "/".join(_si(p) for p in per_size))
    if param_counts:
        lines.append(f"  {'params:':<10} " + " · ".join(param_counts))
    notes = sorted({f"{r['family']}-{r['size']}: {r['size_note']}" for r in results if r.get("size_note")})
    for note in notes:
        lines.append(f"  {'size note:':<10} {note}")
    vacuous = [f"{v['family']}-{v['size']}-{v['optimizer']}" for v in verdicts if v["vacuous"]]
    if vacuous:
        lines.append(f"  vacuous:   also holds on the untrained control at {', '.join(vacuous)}")
    if len(seeds) > 1:
        lines.append(f"  verdicts over {len(seeds)} seeds, quorum {quorum}; k/n = seeds holding")
    return lines


def _si(n: int | None) -> str:
    """Actual parameter counts, short: 970, 9.9k, 1.0m."""
    if n is None:
        return "?"
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.2f}m"


def render(results: Iterable[Result], unicode: bool = True, quorum: Any = None) -> list[str]:
    from .._verdicts import Quorum, aggregate

    q = quorum if quorum is not None else Quorum()
    by_claim: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        label = r["claim"] + (f"[{r['variant']}]" if r.get("variant") else "")
        by_claim[label].append(r)
    lines: list[str] = []
    for claim in sorted(by_claim):
        verdicts = aggregate(by_claim[claim], q)
        lines.extend(render_claim(claim, by_claim[claim], verdicts, unicode, str(q)))
        lines.append("")
    if by_claim:
        lines.append(legend(unicode))
    return lines
