"""Baselines: what each (claim, variant, cell) did on the last release, and how this run differs.

Keyed by claim id, variant and cell key, never by pytest node ids (xdist and `-k` change
those). The file is JSON with one entry per line, sorted by key, so `git diff` shows one
changed line per changed cell. A results file (`--interp-json`) is accepted as a baseline too.

Tolerance: a baseline measurement may carry `"tolerance": t` (added by hand; kept when the
baseline is rewritten). A claim that held in the baseline and breaks now is *tolerated*, not a
regression, when it recorded measurements, and every measurement failing its threshold now has a
tolerance in the baseline and lies within it: |now - baseline value| <= t.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .._measure import OPS
from .._outcomes import BREAKS, ERROR, HOLDS, OUTCOMES
from .files import write_text

FORMAT = "pytest-interp-baseline"
SCHEMA_VERSION = 1
Key = tuple[str, str, str]  # (claim, variant or "", cell)

# classes of (baseline, now) pairs, in the order the summary lists them
REGRESSION, TOLERATED, KNOWN, IMPROVEMENT, CHANGED, NEW, UNCHANGED, MISSING = (
    "regression", "tolerated", "known", "improvement", "changed", "new", "unchanged", "missing")
KINDS = (REGRESSION, MISSING, TOLERATED, KNOWN, IMPROVEMENT, CHANGED, NEW, UNCHANGED)
#: kinds whose failing pytest report becomes an expected failure (xfailed)
EXPECTED = (KNOWN, TOLERATED)


class BaselineError(ValueError):
    """A baseline file that cannot be used; the message is one line naming the file."""


def key_of(entry: Mapping[str, Any]) -> Key:
    return (str(entry["claim"]), str(entry.get("variant") or ""), str(entry["cell"]))


def label(key: Key) -> str:
    claim, variant, cell = key
    return f"{claim}{f'[{variant}]' if variant else ''} @ {cell}"


def _round(value: float) -> float:
    """Six significant digits: float noise must not churn the file's diff."""
    return float(f"{value:.6g}")


def entry_from_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a result the baseline keeps: outcome and measurements."""
    ms = sorted(result.get("measurements") or [], key=lambda m: m["name"])
    return {
        "claim": result["claim"], "variant": result.get("variant"), "cell": result["cell"],
        "outcome": result["outcome"],
        "measurements": [{"name": m["name"], "value": _round(float(m["value"])), "op": m["op"],
                          "threshold": m["threshold"]} for m in ms],
    }


@dataclass
class Baseline:
    entries: dict[Key, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_results(cls, results: Iterable[Mapping[str, Any]]) -> "Baseline":
        base = cls()
        for r in results:
            base.entries[key_of(r)] = entry_from_result(r)
        return base

    def updated(self, results: Iterable[Mapping[str, Any]]) -> "Baseline":
        """This baseline with the run's entries replaced (entries not run are kept; tolerances survive)."""
        new = Baseline(dict(self.entries))
        for r in results:
            entry = entry_from_result(r)
            old = self.entries.get(key_of(entry))
            tolerances = {m["name"]: m["tolerance"] for m in (old or {}).get("measurements", []) if "tolerance" in m}
            for m in entry["measurements"]:
                if m["name"] in tolerances:
                    m["tolerance"] = tolerances[m["name"]]
            new.entries[key_of(entry)] = entry
        return new

    def dumps(self) -> str:
        lines = [json.dumps(self.entries[k], ensure_ascii=False, allow_nan=False) for k in sorted(self.entries)]
        body = ",\n".join(lines)
        return (f'{{"format": "{FORMAT}", "schema_version": {SCHEMA_VERSION},\n"entries": [\n'
                + body + ("\n" if body else "") + "]}\n")

    def write(self, path: Path) -> None:
        """Atomic: a crashed run never leaves half a baseline behind."""
        write_text(path, self.dumps())


def load(path: Path) -> Baseline:
    """A baseline file, or a results file used as one; BaselineError says what is wrong."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline {path} does not exist (create it with --interp-update-baseline)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"baseline {path} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"baseline {path} is not valid JSON: {exc}") from None
    return parse(doc, str(path))


def parse(doc: Any, name: str) -> Baseline:
    if not isinstance(doc, dict):
        raise BaselineError(f"baseline {name}: expected a JSON object")
    if doc.get("format") == FORMAT:
        if doc.get("schema_version") != SCHEMA_VERSION:
            raise BaselineError(f"baseline {name}: schema version {doc.get('schema_version')!r}, "
                                f"this pytest-interp reads {SCHEMA_VERSION}")
        entries = doc.get("entries")
        what = "entries"
    elif "results" in doc and "schema_version" in doc:
        from .results import SCHEMA_VERSION as RESULTS_VERSION

        if doc["schema_version"] != RESULTS_VERSION:
            raise BaselineError(f"baseline {name}: results schema version {doc['schema_version']!r}, "
                                f"this pytest-interp reads {RESULTS_VERSION}")
        entries = doc["results"]
        what = "results"
    else:
        raise BaselineError(f"baseline {name}: neither a baseline (format {FORMAT!r}) nor a results file")
    if not isinstance(entries, list):
        raise BaselineError(f"baseline {name}: '{what}' must be a list")
    base = Baseline()
    for i, e in enumerate(entries):
        _check_entry(e, f"baseline {name}: {what}[{i}]")
        k = key_of(e)
        entry = entry_from_result(e) if what == "results" else dict(e)
        if k in base.entries and base.entries[k] != entry:
            raise BaselineError(f"baseline {name}: two different entries for {label(k)}")
        base.entries[k] = entry
    return base


def _check_entry(e: Any, where: str) -> None:
    if not isinstance(e, dict):
        raise BaselineError(f"{where}: expected an object")
    for k in ("claim", "cell", "outcome"):
        if not isinstance(e.get(k), str):
            raise BaselineError(f"{where}: '{k}' must be a string")
    if e.get("variant") is not None and not isinstance(e["variant"], str):
        raise BaselineError(f"{where}: 'variant' must be a string or null")
    if e["outcome"] not in OUTCOMES:
        raise BaselineError(f"{where}: unknown outcome {e['outcome']!r}")
    ms = e.get("measurements", [])
    if not isinstance(ms, list):
        raise BaselineError(f"{where}: 'measurements' must be a list")
    for m in ms:
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not _number(m.get("value")):
            raise BaselineError(f"{where}: each measurement needs a 'name' and a numeric 'value'")
        if m.get("op") not in OPS or not _number(m.get("threshold")):
            raise BaselineError(f"{where}: measurement {m['name']!r} needs 'op' ({', '.join(OPS)}) and 'threshold'")
        if "tolerance" in m and not (_number(m["tolerance"]) and m["tolerance"] >= 0):
            raise BaselineError(f"{where}: measurement {m['name']!r}: 'tolerance' must be a number >= 0")


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class Change:
    """How one (claim, variant, cell) compares with the baseline."""

    kind: str
    key: Key
    before: str | None
    now: str | None
    detail: str = ""

    def xfail_reason(self) -> str:
        """Why pytest shows this failure as expected (the node id already names claim and cell)."""
        if self.kind == TOLERATED:
            return f"interp baseline: {self.detail}"
        if self.now == BREAKS:
            return "interp baseline: a known break (it broke in the baseline too)"
        return "interp baseline: a known error (it failed in the baseline too)"

    def line(self) -> str:
        arrow = f"{self.before or 'absent'} -> {self.now or 'not run'}"
        return f"{label(self.key)}: {arrow}" + (f" ({self.detail})" if self.detail else "")


def _failing(measurements: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [m for m in measurements if m.get("op") in OPS and not OPS[m["op"]](m["value"], m["threshold"])]


def _tolerated(before: Mapping[str, Any], now: Iterable[Mapping[str, Any]]) -> str | None:
    """Why a held-then-broken claim is within tolerance, or None when it is a regression."""
    failing = _failing(now)
    if not failing:
        return None
    old = {m["name"]: m for m in before.get("measurements", [])}
    parts = []
    for m in failing:
        b = old.get(m["name"])
        if b is None or "tolerance" not in b or abs(m["value"] - b["value"]) > b["tolerance"]:
            return None
        parts.append(f"{m['name']} {m['value']:.4g} vs baseline {b['value']:.4g} ± {b['tolerance']:g}")
    return "within tolerance: " + "; ".join(parts)


def _break_detail(now: Mapping[str, Any], before: Mapping[str, Any] | None) -> str:
    old = {m["name"]: m for m in (before or {}).get("measurements", [])}
    parts = []
    for m in _failing(now.get("measurements") or []):
        was = f", baseline {old[m['name']]['value']:.4g}" if m["name"] in old else ""
        parts.append(f"{m['name']} = {m['value']:.4g}, expected {m['op']} {m['threshold']:g}{was}")
    if parts:
        return "; ".join(parts)
    return str(now.get("reason") or "")[:200]


def classify(before: Mapping[str, Any] | None, now: Mapping[str, Any]) -> Change:
    """One result of this run against its baseline entry (None: the baseline has no such entry)."""
    k = key_of(now)
    outcome = now["outcome"]
    if before is None:
        return Change(NEW, k, None, outcome)
    was = before["outcome"]
    if was == HOLDS and outcome in (BREAKS, ERROR):
        why = _tolerated(before, now.get("measurements") or []) if outcome == BREAKS else None
        if why:
            return Change(TOLERATED, k, was, outcome, why)
        return Change(REGRESSION, k, was, outcome, _break_detail(now, before))
    if was == outcome:
        return Change(KNOWN if outcome in (BREAKS, ERROR) else UNCHANGED, k, was, outcome)
    if outcome == HOLDS:
        return Change(IMPROVEMENT, k, was, outcome)
    return Change(CHANGED, k, was, outcome)


@dataclass
class Comparison:
    changes: list[Change]
    not_run: int  # baseline entries this run did not select (missing when strict)

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def failed(self) -> bool:
        return bool(self.of(REGRESSION) or self.of(MISSING))

    def counts(self) -> str:
        parts = [f"{len(self.of(k))} {k}" for k in KINDS if self.of(k)]
        if self.not_run:
            parts.append(f"{self.not_run} not in this run")
        return ", ".join(parts) or "nothing to compare"


def compare(base: Baseline, results: Iterable[Mapping[str, Any]], strict: bool = False) -> Comparison:
    """This run's results against the baseline; entries not run are `missing` only when strict."""
    changes, seen = [], set()
    for r in results:
        k = key_of(r)
        seen.add(k)
        changes.append(classify(base.entries.get(k), r))
    absent = [k for k in base.entries if k not in seen]
    if strict:
        changes += [Change(MISSING, k, base.entries[k]["outcome"], None) for k in absent]
    changes.sort(key=lambda c: (KINDS.index(c.kind), c.key))
    return Comparison(changes, 0 if strict else len(absent))


def summary_lines(comparison: Comparison, shown: tuple[str, ...] = (REGRESSION, MISSING, TOLERATED, KNOWN,
                                                                    IMPROVEMENT, CHANGED, NEW)) -> list[str]:
    """A line per change worth reading (unchanged entries are only counted), then the counts."""
    titles = {REGRESSION: "REGRESSION", MISSING: "MISSING", TOLERATED: "tolerated", KNOWN: "known break",
              IMPROVEMENT: "improvement", CHANGED: "changed", NEW: "new"}
    lines = [f"{_title(c, titles):<12} {c.line()}" for c in comparison.changes if c.kind in shown]
    return lines + [f"baseline: {comparison.counts()}"]


def _title(change: Change, titles: Mapping[str, str]) -> str:
    if change.kind == KNOWN and change.now == ERROR:
        return "known error"
    return titles[change.kind]
