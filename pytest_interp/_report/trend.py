"""Scale trends: a claim's metric against log10(parameters), and where it would cross its threshold.

Per (claim, variant, family, optimizer, task) and metric, an ordinary least-squares line
value = intercept + slope * log10(params) through the verdicts' seed means, one point per
size. The slope is per decade of parameters; the crossing is where the line meets the
threshold, extrapolated beyond the sizes run when it lies outside them. With fewer than two
sizes there is no line. Pure Python: the console script renders trends without torch.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Iterable, Mapping

from .._measure import OPS

GROUP = ("claim", "variant", "family", "optimizer", "task")
#: crossings beyond 10^18 parameters (or below 1) are reported as log10 only
MAX_LOG10 = 18.0
FLAT = 1e-12


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float, float | None]:
    """(slope, intercept, r2) of the least-squares line; r2 is None when the values are constant."""
    n = len(xs)
    if n < 2 or len(set(xs)) < 2:
        raise ValueError("a line needs at least two distinct x values")
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    slope = sxy / sxx
    intercept = my - slope * mx
    syy = sum((y - my) ** 2 for y in ys)
    if syy == 0:
        return slope, intercept, None
    resid = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys))
    return slope, intercept, max(0.0, 1.0 - resid / syy)


def crossing(slope: float, intercept: float, threshold: float, op: str) -> tuple[float | None, str | None]:
    """(log10 params where the line meets the threshold, the side where the claim holds: 'above'/'below')."""
    if abs(slope) < FLAT:
        return None, None
    x = (threshold - intercept) / slope
    greater = op in (">=", ">")
    return x, "above" if (slope > 0) == greater else "below"


def _points(verdicts: Iterable[Mapping[str, Any]]) -> dict[tuple[Any, ...], dict[str, list[Mapping[str, Any]]]]:
    groups: dict[tuple[Any, ...], dict[str, list[Mapping[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for v in verdicts:
        params = v.get("params")
        if not isinstance(params, (int, float)) or params <= 0:
            continue
        for m in v.get("measurements") or []:
            groups[tuple(v.get(k) for k in GROUP)][m["name"]].append({
                "size": v.get("size"), "params": params, "value": m["mean"],
                "threshold": m["threshold"], "op": m["op"]})
    return groups


def trends(verdicts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One trend per (claim, variant, family, optimizer, task, metric) with two or more sizes."""
    out = []
    for key, metrics in _points(verdicts).items():
        for name, pts in metrics.items():
            pts = sorted(pts, key=lambda p: p["params"])
            if len({p["params"] for p in pts}) < 2 or not all(p["op"] in OPS for p in pts):
                continue
            threshold, op = pts[0]["threshold"], pts[0]["op"]
            xs = [math.log10(p["params"]) for p in pts]
            slope, intercept, r2 = fit_line(xs, [p["value"] for p in pts])
            cross, side = crossing(slope, intercept, threshold, op)
            in_range = cross is not None and 0.0 <= cross <= MAX_LOG10
            out.append({
                **dict(zip(GROUP, key)), "metric": name, "op": op, "threshold": threshold,
                "points": [{"size": p["size"], "params": p["params"], "value": p["value"]} for p in pts],
                "slope_per_decade": slope, "intercept": intercept, "r2": r2,
                "crossing_log10_params": cross,
                "crossing_params": round(10 ** cross) if in_range and cross is not None else None,
                "holds_on": side,
            })
    return sorted(out, key=lambda t: (t["claim"], t["variant"] or "", t["family"], t["optimizer"],
                                      t["task"], t["metric"]))


def si(params: float) -> str:
    """3.2k, 45M: a parameter count the way the size axis writes it."""
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if params >= div:
            return f"{params / div:.3g}{suffix}"
    return f"{params:.3g}"


def describe(t: Mapping[str, Any]) -> str:
    """'slope +0.041/decade; crosses >= 0.9 at ~3.2k params, holds above' (one line, no claim name)."""
    cross = t["crossing_log10_params"]
    if cross is None:
        return f"{t['metric']}: flat at {t['intercept']:.4g}, never crosses {t['op']} {t['threshold']:g}"
    head = f"{t['metric']}: slope {t['slope_per_decade']:+.3g}/decade"
    where = f"~{si(t['crossing_params'])} params" if t["crossing_params"] is not None else f"10^{cross:.1f} params"
    return head + f"; crosses {t['op']} {t['threshold']:g} at {where} ({span(t)}), holds {t['holds_on']}"


def span(t: Mapping[str, Any]) -> str:
    """Where the crossing lies relative to the sizes run: measured between them, or extrapolated."""
    cross = t["crossing_log10_params"]
    lo, hi = math.log10(t["points"][0]["params"]), math.log10(t["points"][-1]["params"])
    if cross is None:
        return ""
    if lo <= cross <= hi:
        return "within the sizes run"
    return "projected" if cross > hi else "below the sizes run"


def terminal_lines(trend_list: Iterable[Mapping[str, Any]]) -> list[str]:
    """Trend lines grouped by claim, for the terminal summary."""
    items = list(trend_list)
    tasks: dict[str, set[str]] = defaultdict(set)
    for t in items:
        tasks[_label(t)].add(str(t.get("task")))
    lines: list[str] = []
    last = None
    for t in items:
        label = _label(t)
        if label != last:
            lines.append(label)
            last = label
        task = f" {t['task']}" if len(tasks[label]) > 1 else ""
        lines.append(f"  {t['family']} {t['optimizer']}{task}  {describe(t)}")
    return lines


def _label(t: Mapping[str, Any]) -> str:
    return str(t["claim"]) + (f"[{t['variant']}]" if t.get("variant") else "")
