"""Outcomes of the seeds of one (claim, family, size, optimizer, task) -> a verdict with intervals.

Verdict: `holds` when at least `quorum` seeds hold, `breaks` when at least `quorum` seeds
break, else `mixed k/n`; with no decided seed, `error`, `untrained` or `n/a`. A holding
verdict whose untrained controls also hold is flagged `vacuous`.

Intervals (95%, on the mean over seeds): the expanded percentile bootstrap (Hesterberg 2015,
"What teachers should know about the bootstrap", sec. 4.4: percentiles at
a = Phi(-sqrt(n/(n-1)) t_{n-1}) instead of 2.5%/97.5%) from 5 seeds up; below 5 seeds a
bootstrap cannot reach outside the observed range (2 seeds cover the mean half the time),
so the Student t interval mean +- t_{n-1} s / sqrt(n) is used instead.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import torch

from ._errors import ConfigError
from ._outcomes import BREAKS, ERROR, HOLDS, NA, UNTRAINED

# two-sided 95% Student t quantiles t_{0.975, df}, df = 1..30
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042]
MIN_BOOTSTRAP = 5
GROUP = ("claim", "variant", "family", "size", "optimizer", "task")


@dataclass(frozen=True)
class Quorum:
    """How many seeds must agree: a fraction of the seeds run, or a count."""

    fraction: float | None = 1.0
    count: int | None = None

    def needed(self, seeds: int) -> int:
        if self.count is not None:
            return min(self.count, seeds)
        return max(1, math.ceil((self.fraction or 1.0) * seeds - 1e-9))

    def __str__(self) -> str:
        if self.count is not None:
            return str(self.count)
        return "all" if self.fraction == 1.0 else f"{self.fraction:g}"


def parse_quorum(text: str) -> Quorum:
    """'0.5' or '50%' is a fraction of the seeds; '2' is a count of seeds."""
    t = str(text).strip()
    try:
        if t.endswith("%"):
            value = float(t[:-1]) / 100
        elif re.fullmatch(r"\d+", t):
            count = int(t)
            if count < 1:
                raise ValueError
            return Quorum(fraction=None, count=count)
        else:
            value = float(t)
    except ValueError:
        raise ConfigError(f"invalid quorum {text!r}: use a fraction of the seeds (0.5, 50%) or a count (2)") from None
    if not 0.0 < value <= 1.0:
        raise ConfigError(f"invalid quorum {text!r}: a fraction must be in (0, 1]")
    return Quorum(fraction=value)


def _t975(df: int) -> float:
    return _T975[df - 1] if df <= len(_T975) else 1.96 + 2.4 / df


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def interval(values: Sequence[float], resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): a 95% interval of the mean (bootstrap from 5 values, Student t below)."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    x = torch.tensor(values, dtype=torch.float64)
    mean = float(x.mean())
    if n == 1 or float(x.std()) == 0.0:
        return mean, mean, mean
    if n < MIN_BOOTSTRAP:
        half = _t975(n - 1) * float(x.std()) / math.sqrt(n)
        return mean, mean - half, mean + half
    gen = torch.Generator().manual_seed(seed)
    means = x[torch.randint(n, (resamples, n), generator=gen)].mean(1)
    a = _phi(-math.sqrt(n / (n - 1)) * _t975(n - 1))
    lo, hi = torch.quantile(means, torch.tensor([a, 1 - a], dtype=torch.float64)).tolist()
    return mean, float(lo), float(hi)


def _decide(outcomes: Sequence[str], quorum: Quorum) -> tuple[str, int]:
    holding = sum(o == HOLDS for o in outcomes)
    breaking = sum(o == BREAKS for o in outcomes)
    need = quorum.needed(len(outcomes))
    if holding + breaking == 0:
        for o in (ERROR, UNTRAINED):
            if o in outcomes:
                return o, 0
        return NA, 0
    if holding >= need:
        return HOLDS, holding
    if breaking >= need:
        return BREAKS, holding
    return f"mixed {holding}/{len(outcomes)}", holding


def _measurements(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    by_name: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in results:
        if r["outcome"] in (HOLDS, BREAKS):
            for m in r.get("measurements") or []:
                by_name[m["name"]].append(m)
    out = []
    for name, ms in sorted(by_name.items()):
        mean, lo, hi = interval([m["value"] for m in ms])
        entry = {"name": name, "mean": mean, "low": lo, "high": hi, "n": len(ms),
                 "threshold": ms[0]["threshold"], "op": ms[0]["op"]}
        nulls = [m["null"] for m in ms if m.get("null") is not None]
        if nulls:
            nmean, nlo, nhi = interval(nulls)
            entry["null"] = {"mean": nmean, "low": nlo, "high": nhi, "n": len(nulls)}
        out.append(entry)
    return out


def metric_names(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The metrics one claim's results or verdicts measured, the most often measured first (ties: in
    the order first seen). A claim that breaks at its first check records no later ones, so cells
    measure different metrics: a table or heatmap shows one metric across its cells, never a mix."""
    count: dict[str, int] = {}
    for r in records:
        for m in r.get("measurements") or []:
            count[m["name"]] = count.get(m["name"], 0) + 1
    return sorted(count, key=lambda name: -count[name])  # stable: ties keep the order first seen


def aggregate(results: Iterable[Mapping[str, Any]], quorum: Quorum = Quorum()) -> list[dict[str, Any]]:
    """One verdict per (claim, variant, family, size, optimizer, task), sorted like the results."""
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = defaultdict(list)
    for r in results:
        groups[tuple(r.get(k) for k in GROUP)].append(r)
    verdicts = []
    for key, rs in groups.items():
        rs = sorted(rs, key=lambda r: r["seed"])
        verdict, holding = _decide([r["outcome"] for r in rs], quorum)
        controls = [r["control"]["outcome"] for r in rs if r.get("control")]
        control_verdict = _decide(controls, quorum)[0] if controls else None
        verdicts.append({
            **dict(zip(GROUP, key)),
            "verdict": verdict,
            "vacuous": verdict == HOLDS and control_verdict == HOLDS,
            "seeds_holding": holding,
            "seeds_run": len(rs),
            "control": control_verdict,
            "measurements": _measurements(rs),
            "params": rs[0].get("params"),
        })
    return verdicts


def verdict_kind(verdict: str) -> str:
    """'mixed 2/3' -> 'mixed'."""
    return verdict.split(" ")[0]
