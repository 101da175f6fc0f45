"""pytest hooks for reports and release gating: HTML page, baseline, scale trends, JUnit properties.

A second pytest11 entry point beside `plugin.py`: it reads the run's results through
`plugin.interp_session` and adds nothing to how claims run. Baselines are loaded in every
process (xdist workers turn known breaks into expected failures as they happen); files are
written and the exit status set only by the controller. Nothing heavy is imported here.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator

import pytest

if TYPE_CHECKING:
    from ._report.baseline import Baseline, Comparison

STATE_KEY = pytest.StashKey["ReportState"]()
DOC_LIMIT = 4000


@dataclass
class ReportState:
    html: Path | None = None
    baseline_path: Path | None = None
    baseline: "Baseline | None" = None
    update: bool = False
    strict: bool = False
    comparison: "Comparison | None" = None
    document: dict[str, Any] | None = None
    written: list[str] = field(default_factory=list)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("interp")
    group.addoption("--interp-html", action="store", default=None, metavar="PATH",
                    help="write a self-contained HTML report (a heatmap per claim) here")
    parser.addini("interp_html", help="write a self-contained HTML report here", default=None)
    group.addoption("--interp-baseline", action="store", default=None, metavar="FILE",
                    help="compare with this baseline (or results) file: a claim that held there and breaks "
                         "now fails the run; known breaks are expected failures")
    parser.addini("interp_baseline", help="baseline file to compare with", default=None)
    group.addoption("--interp-update-baseline", action="store_true", default=False,
                    help="write this run's outcomes into the --interp-baseline file (entries not run are kept)")
    group.addoption("--interp-baseline-strict", action="store_true", default=None,
                    help="baseline entries this run did not select are `missing` and fail the run")
    parser.addini("interp_baseline_strict", type="bool", default=False,
                  help="baseline entries this run did not select fail the run")


def _path(config: pytest.Config, name: str) -> Path | None:
    value = config.getoption(name) or config.getini(name) or None
    if value is None:
        return None
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else Path(config.invocation_params.dir) / path


def pytest_configure(config: pytest.Config) -> None:
    from ._report.baseline import Baseline, BaselineError, load

    state = ReportState(html=_path(config, "interp_html"), baseline_path=_path(config, "interp_baseline"),
                        update=bool(config.getoption("interp_update_baseline")))
    strict = config.getoption("interp_baseline_strict")
    state.strict = bool(config.getini("interp_baseline_strict") if strict is None else strict)
    if state.html is not None and state.html.is_dir():
        raise pytest.UsageError(f"pytest-interp: --interp-html {state.html} is a folder; give a file path")
    if state.update and state.baseline_path is None:
        raise pytest.UsageError("pytest-interp: --interp-update-baseline needs --interp-baseline=FILE")
    if state.baseline_path is not None:
        if state.update and not state.baseline_path.exists():
            state.baseline = Baseline()
        else:
            try:
                state.baseline = load(state.baseline_path)
            except BaselineError as exc:
                raise pytest.UsageError(f"pytest-interp: {exc}") from None
    config.stash[STATE_KEY] = state


# -- per test: docstring, expected failures, JUnit properties -----------------

@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    interp = getattr(report, "interp", None)
    if not isinstance(interp, dict):
        return report
    fn = getattr(item, "function", None)
    doc = inspect.getdoc(fn) if fn is not None else None
    interp["doc"] = doc[:DOC_LIMIT] if doc else None
    state = item.config.stash.get(STATE_KEY, None)
    change = None
    if state is not None and state.baseline is not None:
        from ._report.baseline import EXPECTED, classify, key_of

        change = classify(state.baseline.entries.get(key_of(interp)), interp)
        if report.failed and change.kind in EXPECTED:
            report.outcome = "skipped"
            report.wasxfail = change.xfail_reason()
    item.user_properties.extend(properties(interp, change.kind if change else None))
    return report


def properties(interp: dict[str, Any], baseline_kind: str | None) -> list[tuple[str, str]]:
    """JUnit <property> pairs: the cell and what the claim measured there."""
    props = [("interp.claim", interp["claim"])]
    if interp.get("variant"):
        props.append(("interp.variant", interp["variant"]))
    for key in ("cell", "family", "size", "params", "optimizer", "task", "seed", "outcome"):
        if interp.get(key) is not None:
            props.append((f"interp.{key}", str(interp[key])))
    if interp.get("vacuous"):
        props.append(("interp.vacuous", "true"))
    for m in interp.get("measurements") or []:
        props.append((f"interp.measurement.{m['name']}", repr(float(m["value"]))))
        props.append((f"interp.threshold.{m['name']}", f"{m['op']} {m['threshold']!r}"))
        if m.get("null") is not None:
            props.append((f"interp.null.{m['name']}", repr(float(m["null"]))))
    if baseline_kind:
        props.append(("interp.baseline", baseline_kind))
    return props


# -- end of run: compare, write, summarize ------------------------------------

def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from ._plugin import interp_session, is_controller

    config = session.config
    state = config.stash.get(STATE_KEY, None)
    if state is None or not is_controller(config) or config.option.collectonly:
        return
    run = interp_session(config)
    results = list(run.results) if run is not None else []
    if results or state.html is not None:
        from ._records import stopped_early
        from ._report import results as results_file

        stop = stopped_early(session, exitstatus)
        state.document = run.document(stop) if run is not None else results_file.build([], {}, {}, None, stop)
    if state.baseline is not None and state.baseline_path is not None:
        from ._report.baseline import compare

        state.comparison = compare(state.baseline, results, strict=state.strict)
        if state.comparison.failed and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if state.update and exitstatus not in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR):
            new = state.baseline.updated(results)
            new.write(state.baseline_path)
            state.written.append(f"baseline updated: {state.baseline_path} ({len(new.entries)} entries)")
    if state.html is not None and state.document is not None:
        from ._report.files import write_text
        from ._report.html import render

        changes = None
        if state.comparison is not None:
            from ._report.baseline import KINDS

            order = {k: i for i, k in enumerate(KINDS)}
            changes = [{"kind": c.kind, "claim": c.key[0], "variant": c.key[1], "cell": c.key[2], "before": c.before,
                        "now": c.now, "detail": c.detail}
                       for c in sorted(state.comparison.changes, key=lambda c: (order.get(c.kind, 99), c.key))]
        write_text(state.html, render(state.document, changes=changes))
        state.written.append(f"HTML report written to {state.html}")


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    from ._plugin import is_controller

    state = config.stash.get(STATE_KEY, None)
    if state is None or not is_controller(config):
        return
    tr = terminalreporter
    if state.document is not None and state.document.get("trends"):
        from ._report.trend import terminal_lines

        tr.write_sep("=", "interp: scale trends (metric against log10 parameters, least squares)")
        for line in terminal_lines(state.document["trends"]):
            tr.write_line(line)
    if state.comparison is not None:
        from ._report.baseline import MISSING, REGRESSION, summary_lines

        tr.write_sep("=", f"interp: baseline {state.baseline_path}")
        for line in summary_lines(state.comparison):
            tr.write_line(line)
        regressed, missing = len(state.comparison.of(REGRESSION)), len(state.comparison.of(MISSING))
        if regressed or missing:
            what = [f"{regressed} regression{'s' * (regressed != 1)}"] if regressed else []
            what += [f"{missing} missing entr{'ies' if missing != 1 else 'y'}"] if missing else []
            tr.write_line(f"interp: FAILED against the baseline: {' and '.join(what)}", red=True, bold=True)
    for line in state.written:
        tr.write_line(f"interp: {line}")
