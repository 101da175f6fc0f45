"""Which cells a run's claims need, decided before anything is built: n/a reasons, declared
sibling seeds, the plan line, the size note, and whether a claim runs on a built cell. Functions of
specs, cells and the zoo (no pytest)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Collection, Iterable

if TYPE_CHECKING:
    from ._claimspec import ClaimSpec
    from ._grid import Cell


def item_spec(item: Any) -> "ClaimSpec":
    """A collected test's claim spec, from its decorator or its `interp` marker."""
    from ._claimspec import claim_spec

    marker = item.get_closest_marker("interp")
    return claim_spec(getattr(item, "function", None), dict(marker.kwargs) if marker else None)


def with_siblings(cell: "Cell", offsets: Iterable[int]) -> list["Cell"]:
    """The cell and the other seeds of it a claim declares (`siblings`: offsets from its seed)."""
    return [cell, *(dataclasses.replace(cell, seed=cell.seed + k) for k in sorted(set(offsets)) if k and cell.seed + k >= 0)]


def claim_cells(grid: Any, paths: Iterable[Any], skip: Collection[str] = ()) -> list["Cell"]:
    """The generated cells of `grid` that the claims in these files ask for, read from their source:
    every task and task options they use, the families they allow, the other seeds they declare.
    `skip`: cell keys whose claims are measured already (their siblings are not needed for them)."""
    from ._claim_tasks import claim_task_families, claim_task_siblings

    files = list(paths)
    siblings = claim_task_siblings(files)
    return list(dict.fromkeys(
        s for (task, opts), fams in claim_task_families(files).items() for c in grid.cells(task, dict(opts))
        if not c.source and (fams is None or c.family in fams) and c.key not in skip
        for s in with_siblings(c, siblings[(task, opts)])))


def not_applicable(spec: "ClaimSpec", cell: "Cell", zoo: Any) -> str | None:
    """Why the claim is n/a on this cell before anything is built: a family it excludes, roles it lacks."""
    if spec.families and cell.family not in spec.families:
        return f"the claim applies to {', '.join(spec.families)} only"
    roles = zoo.roles(cell)
    missing = [r for r in spec.needs if r not in roles]
    return f"{cell.family} has no {', '.join(missing)} site" if missing else None


def cells_to_build(claims: Iterable[tuple["ClaimSpec", "Cell"]], zoo: Any) -> list["Cell"]:
    """The cells the (claim, cell) pairs will run on, with the other seeds each claim declares;
    none that is n/a for its claim or unsupported by the zoo."""
    cells: set["Cell"] = set()
    for spec, cell in claims:
        if not_applicable(spec, cell, zoo):
            continue
        cells.update(with_siblings(cell, () if cell.source else spec.siblings))
    return [c for c in sorted(cells) if zoo.unsupported(c) is None]


def not_stored(spec: "ClaimSpec", cell: "Cell", zoo: Any, snapshot: "frozenset[str] | None" = None) -> list["Cell"]:
    """The cells a claim on this cell would have to train, for a stored-only run to leave it out:
    the cell and its declared siblings the store lacks (or, given the `snapshot` of stored keys
    taken when the run started, lacked then). None where the outcome is decided without
    training (n/a, a cell the zoo cannot build, a named model)."""
    if cell.source or not_applicable(spec, cell, zoo) or zoo.unsupported(cell):
        return []
    cells = with_siblings(cell, spec.siblings)
    return [c for c in cells if zoo.needs_training(c) or (snapshot is not None and zoo.plan(c).key not in snapshot)]


def plan_line(cells: list["Cell"], zoo: Any, left_out: int | None = None) -> str:
    """'N cells to run claims on: S stored, T to train (about ...)': printed before anything trains;
    a stored-only run (`left_out` not None) says instead how many cells it leaves out."""
    from ._progress import training_estimate

    train = [c for c in cells if zoo.needs_training(c)]
    head = f"pytest-interp: {len(cells)} cells to run claims on: {len(cells) - len(train)} stored"
    if left_out is not None:
        return f"{head}; stored-only: {left_out} cells the store lacks are left out, and nothing trains"
    return (f"{head}, {len(train)} to train{training_estimate(zoo, train, sorted({c.size for c in cells if not c.source}))}, "
            "plus any other seed a claim asks for without declaring it in `siblings`")


def size_note(cell: "Cell", zoo: Any) -> str | None:
    """Why a generated cell's actual size misses its target by more than 25%, for the report."""
    from ._families import FAMILIES

    if cell.source:  # a named model's size is its actual count, not a target
        return None
    try:
        plan = zoo.plan(cell)
        return FAMILIES.get(cell.family).size_note(cell.params_target, plan.task.spec)
    except Exception:  # checkpoints and HF models have no size rule
        return None


def subject_outcome(spec: "ClaimSpec", cell: "Cell", zoo: Any, build_errors: dict["Cell", BaseException],
                    info: dict[str, Any]) -> str | None:
    """Whether one claim runs on the cell, decided before any fixture or claim runs: the skip reason
    (prefixed with its outcome, `n/a` or `untrained`), or None where it runs; raises the error the
    cell's build raised. Fills `info` with what the claim's record shows of the subject."""
    from ._outcomes import NA_PREFIX, UNTRAINED_PREFIX

    reason = zoo.unsupported(cell)
    if reason:
        return NA_PREFIX + reason
    info["params"] = zoo.params(cell)
    info["size_note"] = size_note(cell, zoo)
    why = not_applicable(spec, cell, zoo)
    if why:
        return NA_PREFIX + why
    if cell in build_errors:
        raise build_errors[cell]
    subject = zoo.subject(cell)
    info["checkpoint_sha256"] = subject.checkpoint_sha256
    # what the cell is trained from (its store key): results kept from another machine are checked against it
    info["checkpoint_key"] = None if cell.source else zoo.plan(cell).key
    info["training"] = m = subject.metrics
    if m.get("diverged"):
        return UNTRAINED_PREFIX + "training diverged (loss became NaN or inf)"
    if not m.get("reached", False):
        return UNTRAINED_PREFIX + f"test accuracy {m.get('test_accuracy', 0):.3f} < target {m.get('target')}"
    return None
