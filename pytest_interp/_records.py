"""From a finished pytest phase to the plain-data record of one (claim, cell): its outcome and why.

Kept apart from the hooks so the mapping (pass -> holds, assertion -> breaks, skip prefix ->
n/a or untrained, anything else -> error) reads in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._outcomes import BREAKS, ERROR, HOLDS, NA, NA_PREFIX, UNTRAINED, UNTRAINED_PREFIX

if TYPE_CHECKING:
    import pytest

    from ._grid import Cell


def variant(item: "pytest.Item") -> str | None:
    """Other parameters of a parametrized claim, so (claim, variant, cell) stays unique."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    others = {k: v for k, v in callspec.params.items() if k != "model"}
    return ",".join(f"{k}={v!r}" for k, v in sorted(others.items())) or None


def counterexample(call: "pytest.CallInfo[None]") -> str | None:
    """Hypothesis' shrunk falsifying example, from the notes it adds to the exception."""
    exc = call.excinfo.value if call.excinfo is not None else None
    notes = [str(n) for n in getattr(exc, "__notes__", []) or []]
    # "Falsifying example" before Hypothesis 6.16x, "Failing test case" after
    found = [n for n in notes if n.startswith(("Falsifying example", "Failing test case"))]
    return "\n".join(found)[:4000] if found else None


def outcome_of(call: "pytest.CallInfo[None]", report: "pytest.TestReport") -> tuple[str, str | None]:
    """The outcome of a phase that decided the claim, and its one-line reason."""
    if report.passed:
        return HOLDS, None
    exc = call.excinfo.value if call.excinfo is not None else None
    if report.skipped:
        msg = str(getattr(exc, "msg", "") or "")
        if msg.startswith(UNTRAINED_PREFIX):
            return UNTRAINED, msg[len(UNTRAINED_PREFIX):]
        if msg.startswith(NA_PREFIX):
            return NA, msg[len(NA_PREFIX):]
        return NA, msg or "skipped"
    first = str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else type(exc).__name__
    if call.when == "call" and isinstance(exc, AssertionError):
        return BREAKS, first[:500]
    return ERROR, f"{type(exc).__name__}: {first}"[:500]


def record(item: "pytest.Item", cell: "Cell", outcome: str, reason: str | None, *, info: dict[str, Any],
           measurements: list[dict[str, Any]], control: dict[str, Any] | None) -> dict[str, Any]:
    """The results-file record; `info` is what setup learned about the subject (size, training, hash)."""
    from ._session import claim_source_hash, result_record

    fn = getattr(item, "function", None)
    return result_record(
        claim=item.nodeid.split("[")[0], variant=variant(item), cell=cell, outcome=outcome, reason=reason,
        measurements=measurements, params=info.get("params"), size_note=info.get("size_note"),
        control=control if outcome == HOLDS else None,
        training=info.get("training"), claim_sha256=claim_source_hash(fn) if fn else "",
        checkpoint_sha256=info.get("checkpoint_sha256"), checkpoint_key=info.get("checkpoint_key"),
    )


def stopped_early(session: "pytest.Session", exitstatus: int) -> str | None:
    """Why the run ended before every collected claim ran (Ctrl-C, -x, --maxfail), or None."""
    import pytest

    if exitstatus == pytest.ExitCode.INTERRUPTED:
        return "interrupted"
    why = session.shouldfail or session.shouldstop
    return str(why) if why else None
