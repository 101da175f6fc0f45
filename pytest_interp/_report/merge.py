"""Reading results files from elsewhere (shards, other labs) and merging them into one.

Everything read here is validated before use: the files come from other machines and other
people, and a bad one must be a one-line error naming the file, not a traceback later on.
Entries are keyed by (claim, variant, cell): the same key twice is fine when both say the
same thing (timings aside) and an error when they conflict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Collection, Mapping, Sequence

from .._outcomes import OUTCOMES

SCHEMA_VERSION = 1  # of the results file; kept equal to report.results.SCHEMA_VERSION (tested)
_STR_KEYS = ("claim", "cell", "family", "size", "optimizer", "task")


class ResultsFileError(ValueError):
    """A results file that cannot be used; the message is one line naming the file."""


def load_results(path: Path) -> dict[str, Any]:
    """A validated results document (schema_version, results, and optional verdicts/trends/grid)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsFileError(f"{path}: cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ResultsFileError(f"{path}: not valid JSON ({exc})") from None
    validate(doc, str(path))
    return doc


def validate(doc: Any, name: str) -> None:
    if not isinstance(doc, dict):
        raise ResultsFileError(f"{name}: not a results file (expected a JSON object)")
    if "schema_version" not in doc:
        raise ResultsFileError(f"{name}: not a results file (no schema_version)")
    if doc["schema_version"] != SCHEMA_VERSION:
        raise ResultsFileError(f"{name}: schema version {doc['schema_version']!r}; this pytest-interp reads "
                               f"version {SCHEMA_VERSION} (merge files written by the same version)")
    if not isinstance(doc.get("results"), list):
        raise ResultsFileError(f"{name}: 'results' must be a list")
    for key in ("grid", "stats"):
        if key in doc and not isinstance(doc[key], dict):
            raise ResultsFileError(f"{name}: '{key}' must be an object")
    for key in ("verdicts", "trends"):
        if key in doc and not isinstance(doc[key], list):
            raise ResultsFileError(f"{name}: '{key}' must be a list")
    if doc.get("stopped_early") is not None and not isinstance(doc["stopped_early"], str):
        raise ResultsFileError(f"{name}: 'stopped_early' must be a string")
    not_stored = doc.get("not_stored")
    if not_stored is not None and not (isinstance(not_stored, list) and all(isinstance(k, str) for k in not_stored)):
        raise ResultsFileError(f"{name}: 'not_stored' must be a list of cell keys")
    for i, r in enumerate(doc["results"]):
        _check_result(r, f"{name}: results[{i}]")


def _check_result(r: Any, where: str) -> None:
    if not isinstance(r, dict):
        raise ResultsFileError(f"{where}: expected an object")
    for k in _STR_KEYS:
        if not isinstance(r.get(k), str):
            raise ResultsFileError(f"{where}: '{k}' must be a string")
    if r.get("variant") is not None and not isinstance(r["variant"], str):
        raise ResultsFileError(f"{where}: 'variant' must be a string or null")
    if not isinstance(r.get("seed"), int) or isinstance(r.get("seed"), bool):
        raise ResultsFileError(f"{where}: 'seed' must be an integer")
    if r.get("outcome") not in OUTCOMES:
        raise ResultsFileError(f"{where}: 'outcome' must be one of {', '.join(OUTCOMES)}")
    if r.get("params") is not None and not isinstance(r["params"], int):
        raise ResultsFileError(f"{where}: 'params' must be an integer or null")
    ms = r.get("measurements", [])
    if not isinstance(ms, list) or not all(_measurement_ok(m) for m in ms):
        raise ResultsFileError(f"{where}: 'measurements' must be a list of {{name, value, threshold, op}}")
    for k in ("control", "training", "provenance"):
        if r.get(k) is not None and not isinstance(r[k], dict):
            raise ResultsFileError(f"{where}: '{k}' must be an object or null")


def _measurement_ok(m: Any) -> bool:
    num = (int, float)
    return (isinstance(m, dict) and isinstance(m.get("name"), str) and isinstance(m.get("value"), num)
            and isinstance(m.get("threshold"), num) and isinstance(m.get("op"), str))


def _key(r: Mapping[str, Any]) -> tuple[str, str, str]:
    return (r["claim"], r.get("variant") or "", r["cell"])


def _comparable(r: Mapping[str, Any]) -> dict[str, Any]:
    """A result without what differs between identical runs (training seconds)."""
    training = r.get("training")
    out = dict(r)
    if isinstance(training, dict):
        out["training"] = {k: v for k, v in training.items() if k != "seconds"}
    return out


def _differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    ca, cb = _comparable(a), _comparable(b)
    pa, pb = ca.get("provenance"), cb.get("provenance")
    if isinstance(pa, dict) and isinstance(pb, dict):  # a field only one file records (a newer version's) is no conflict
        common = set(pa) & set(pb)
        ca["provenance"], cb["provenance"] = ({k: p[k] for k in common} for p in (pa, pb))
    return sorted(k for k in set(ca) | set(cb) if ca.get(k) != cb.get(k))


def merge_results(docs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """The union of the files' results; a key given twice must agree (ResultsFileError otherwise)."""
    seen: dict[tuple[str, str, str], tuple[str, Mapping[str, Any]]] = {}
    for name, doc in docs:
        for r in doc["results"]:
            k = _key(r)
            if k in seen:
                first, other = seen[k]
                diff = _differences(other, r)
                if diff:
                    what = f"{k[0]}{f'[{k[1]}]' if k[1] else ''} @ {k[2]}"
                    detail = f"outcome {other['outcome']} vs {r['outcome']}" if "outcome" in diff else \
                        f"differing {', '.join(diff)}"
                    raise ResultsFileError(f"conflicting entries for {what} in {first} and {name} ({detail})")
                continue
            seen[k] = (name, r)
    return [dict(r) for _, r in seen.values()]


def merge_grids(grids: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The union of the axes; the quorum must agree, since verdicts are recomputed with it."""
    out: dict[str, Any] = {}
    for axis in ("families", "sizes", "optimizers"):
        values: list[Any] = []
        for g in grids:
            for v in g.get(axis) or []:
                if v not in values:
                    values.append(v)
        out[axis] = values
    out["seeds"] = max([g["seeds"] for g in grids if isinstance(g.get("seeds"), int)], default=1)
    devices = sorted({str(g["device"]) for g in grids if g.get("device")})
    out["device"] = ",".join(devices) or "cpu"
    quorums = sorted({str(g.get("quorum", "all")) for g in grids})
    if len(quorums) > 1:
        raise ResultsFileError(f"the files were run with different quorums ({', '.join(quorums)}); "
                               f"verdicts cannot be merged")
    out["quorum"] = quorums[0] if quorums else "all"
    out["controls"] = all(bool(g.get("controls", True)) for g in grids)
    if any(g.get("stored_only") for g in grids):
        out["stored_only"] = True
    models: dict[str, Any] = {}
    for g in grids:
        for m in g.get("models") or []:
            if isinstance(m, Mapping) and isinstance(m.get("name"), str):
                models.setdefault(m["name"], dict(m))
    if models:
        out["models"] = [models[k] for k in sorted(models)]
    return out


def merge_stats(stats: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in stats:
        for k, v in s.items():
            if isinstance(v, int) and not isinstance(v, bool):
                out[k] = out.get(k, 0) + v
    return dict(sorted(out.items()))


def quorum_of(text: str) -> Any:
    """The Quorum a results file's grid names ('all', '0.5', '2')."""
    from .._errors import ConfigError
    from .._verdicts import Quorum, parse_quorum

    try:
        return Quorum() if text in ("all", "") else parse_quorum(text)
    except ConfigError as exc:
        raise ResultsFileError(f"grid.quorum: {exc}") from None


def merge(docs: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """One results document from several validated ones, verdicts and trends recomputed."""
    from .results import build

    rows = merge_results(docs)
    grid = merge_grids([d.get("grid") or {} for _, d in docs])
    stats = merge_stats([d.get("stats") or {} for _, d in docs])
    stats["results"] = len(rows)
    stopped = "; ".join(f"{name}: {d['stopped_early']}" for name, d in docs if d.get("stopped_early"))
    lists = [d["not_stored"] for _, d in docs if d.get("not_stored") is not None]
    # a cell one shard lacked and another measured is not missing; one a file both has results for and
    # lists (a carried-forward file whose edited claim must be measured there again) still is
    measured = {r["cell"] for _, d in docs for r in d["results"] if r["cell"] not in (d.get("not_stored") or ())}
    not_stored = sorted({k for keys in lists for k in keys} - measured) if lists else None
    doc = build(rows, stats, grid, quorum_of(grid["quorum"]), stopped or None, not_stored)
    doc["merged_from"] = [name for name, _ in docs]
    return doc


def carry_forward(new: Mapping[str, Any], last: Mapping[str, Any], claims: Collection[str] | None = None,
                  last_name: str = "the last results",
                  keys: Mapping[str, str] | None = None) -> tuple[dict[str, Any], int, int]:
    """A stored-only run's results with the `last` results kept for what it could not measure
    (a store on another machine, or one pruned since): each (claim, variant, cell) the run left
    out, on a cell of its grid, of a claim the file still has (`claims`: function names) whose
    source has not changed where the run can tell (an `untrained` one survives a changed source:
    `_decided_by_training`), on a cell trained as it would be now (`keys`: store keys by cell,
    checked against a result's `checkpoint_key`). A cell stays in `not_stored` while an edited
    claim's result on it is dropped (of a variant the claim still has), even if another claim's
    is kept, so a build trains it.
    Returns (document, results kept, results dropped); verdicts and trends are recomputed over
    both, so a long study survives moving."""
    from .results import build

    mine = {_key(r) for r in new["results"]}
    variants = {(claim, variant) for claim, variant, _ in mine}
    hashes: dict[str, set[str]] = {}
    for r in new["results"]:
        hashes.setdefault(r["claim"], set()).add(str((r.get("provenance") or {}).get("claim_sha256")))
    grid = new.get("grid") or {}
    kept: list[dict[str, Any]] = []
    dropped = 0
    remeasure: set[str] = set()  # cells an edited claim must be measured on again: still not stored
    for r in last["results"]:
        if _key(r) in mine:
            continue
        same_claim = claims is None or r["claim"].split("::")[-1].split("[")[0] in claims
        sha = str((r.get("provenance") or {}).get("claim_sha256"))
        has_variant = _key(r)[:2] in variants  # a parametrization is part of the claim's source
        unchanged = r["claim"] not in hashes or sha in hashes[r["claim"]] or (has_variant and _decided_by_training(r))
        was = (r.get("provenance") or {}).get("checkpoint_key")
        same_training = keys is None or was is None or keys.get(r["cell"], was) == was
        still_wanted = same_claim and same_training and _in_grid(r, grid)
        if still_wanted and unchanged:
            kept.append(dict(r))
        else:
            dropped += 1
            if still_wanted and has_variant:
                remeasure.add(r["cell"])  # only the claim's source changed: measure it there again
    if not kept:
        return dict(new), 0, dropped
    carried = {r["cell"] for r in kept} - remeasure  # a build trains what stays `not_stored`
    stats = {**(new.get("stats") or {}), "carried": len(kept)}
    stats["results"] = len(new["results"]) + len(kept)
    not_stored = new.get("not_stored")
    doc = build([*new["results"], *kept], stats, grid, quorum_of(str(grid.get("quorum", "all"))),
                new.get("stopped_early"), None if not_stored is None else [k for k in not_stored if k not in carried])
    doc["carried_from"] = last_name
    return doc, len(kept), dropped


def _decided_by_training(r: Mapping[str, Any]) -> bool:
    """Whether a result's outcome came from its cell's training alone, so an edited claim body
    cannot change it: a cell whose recorded training missed its target (or diverged) is
    `untrained` before any body runs (an n/a that new `needs` imply is measured anew and wins;
    the training itself is checked like any kept result's)."""
    training = r.get("training")
    training = training if isinstance(training, Mapping) else {}
    missed = training.get("reached") is False or training.get("diverged") is True
    return r.get("outcome") == "untrained" and missed


def _in_grid(r: Mapping[str, Any], grid: Mapping[str, Any]) -> bool:
    """The result's cell is one of the grid's: its family, size, learning algorithm and seed."""
    seeds = grid.get("seeds")
    return (r["family"] in (grid.get("families") or ()) and r["size"] in (grid.get("sizes") or ())
            and r["optimizer"] in (grid.get("optimizers") or ())
            and (not isinstance(seeds, int) or 0 <= r["seed"] < seeds))
