"""pytest hooks only: options, parametrization over cells, outcomes, hand-off to reports.

Heavy imports (torch, the zoo) happen only once a claim is collected or an interp
option is given. Per-test results travel on `report.interp` as plain data so that
pytest-xdist carries them from workers to the controller, which alone writes files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator, Iterator, Sequence

import pytest

from ._options import ALL_OPTIONS, SWITCHES, Option

if TYPE_CHECKING:
    from ._grid import Cell
    from ._session import InterpSession

SESSION_KEY = pytest.StashKey["InterpSession"]()
CELL_KEY = pytest.StashKey["Cell"]()
MEASURE_KEY = pytest.StashKey[list]()
CONTROL_KEY = pytest.StashKey[dict]()
REGISTRARS_KEY = pytest.StashKey[list[Any]]()
SUBJECT_KEY = pytest.StashKey[dict]()
PENDING_KEY = pytest.StashKey[dict]()
TODO_KEY = pytest.StashKey[list]()
RUN_KEY = pytest.StashKey[pytest.Session]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import _hookspecs as hookspecs

    pluginmanager.add_hookspecs(hookspecs)


CELL_SCHEDULING_KEY = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """With `-n N` and no `--dist`, schedule by cell: all claims of one cell on one worker."""
    explicit = any(a == "-d" or a.startswith("--dist") for a in config.invocation_params.args)
    config.stash[CELL_SCHEDULING_KEY] = bool(getattr(config.option, "numprocesses", None)) and not explicit


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if not config.stash.get(CELL_SCHEDULING_KEY, False):
        return None
    from ._xdist import CellScheduling

    return CellScheduling(config, log)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("interp", "pytest-interp: interpretability claims across a grid of models")
    for opt in ALL_OPTIONS:
        group.addoption(opt.flag, action="store", default=None, metavar=opt.metavar, help=opt.help)
        parser.addini(opt.ini, help=opt.help, default=None)
    for switch in SWITCHES:
        group.addoption(switch.flag, action="store_const", const="true", default=None, help=switch.help)
        parser.addini(switch.ini, help=switch.help, default=None)


def _getter(config: pytest.Config) -> Any:
    def get(opt: Option) -> str | None:
        value = config.getoption(opt.flag.lstrip("-").replace("-", "_"))
        if value is None:
            ini = config.getini(opt.ini)
            value = ini if ini not in (None, "", []) else None
        return None if value is None else str(value)

    return get


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    from ._handoff import PlanHandOff, StoredOnly

    config.pluginmanager.register(StoredOnly(), "interp-stored-only")
    config.pluginmanager.register(PlanHandOff(), "interp-plan-handoff")
    config.addinivalue_line("markers", "interp(task=..., needs=[...]): mark a test as a claim (see pytest_interp.claim)")
    config.addinivalue_line("markers", "xdist_group(name): group tests of one cell on one xdist worker")
    config.stash[PENDING_KEY] = {"trained": [], "loaded": [], "forward_passes": 0, "lines": []}
    get = _getter(config)
    if any(get(opt) is not None for opt in (*ALL_OPTIONS, *SWITCHES)):
        _session(config)  # validate now: bad input is a usage error before anything runs


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove what conftest hooks and zoo files registered: the registries outlive one run."""
    registrars: list[Any] = config.stash.get(REGISTRARS_KEY, [])
    for registrar in reversed(registrars):
        registrar.undo()


def _share_cores(config: pytest.Config) -> None:
    """An xdist worker takes its share of the cores for measurements (training already uses one thread).

    With torch's default (every core) in every worker, N workers oversubscribe N cores, and the
    claims' small probe fits and CKA products slowed many times over (the probes' L-BFGS fits 30-60x on 2 cores).
    """
    import os

    import torch

    workers = int(getattr(config, "workerinput", {}).get("workercount", 1) or 1)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def interp_session(config: pytest.Config) -> "InterpSession | None":
    """The run's collected results, for sibling plugins (reports); None when no claim ran."""
    return config.stash.get(SESSION_KEY, None)


def is_controller(config: pytest.Config) -> bool:
    """True in the process that writes files (not an xdist worker)."""
    return not _is_worker(config)


def _session(config: pytest.Config) -> "InterpSession":
    """The run's state, created on first need (validating options into a one-line usage error)."""
    if SESSION_KEY not in config.stash:
        from ._errors import ConfigError
        from ._extend import Registrar, load_entry_points
        from ._options import resolve
        from ._session import InterpSession

        conftest = Registrar("conftest.py")
        config.stash[REGISTRARS_KEY] = [conftest]
        try:
            load_entry_points()
            config.hook.pytest_interp_register(registrar=conftest)
            cfg = resolve(_getter(config), Path(str(config.rootpath)))
            if cfg.grid.declared:
                zoo = Registrar("the zoo file")
                config.stash[REGISTRARS_KEY].append(zoo)
                for family in cfg.grid.declared:
                    zoo.family(family)
        except ConfigError as exc:
            raise pytest.UsageError(f"pytest-interp: {exc}") from None
        from ._progress import Progress

        if _is_worker(config):
            _share_cores(config)
        config.stash[SESSION_KEY] = InterpSession(cfg, listener=Progress(config, PENDING_KEY, _is_worker(config)))
    return config.stash[SESSION_KEY]


# -- parametrization ---------------------------------------------------------

def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "model" not in metafunc.fixturenames:
        return
    from ._parametrize import parametrize_cells

    parametrize_cells(metafunc, lambda: _session(metafunc.config).config.grid)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, dropped = [], []
    from ._parametrize import cell_of

    claims = any(cell_of(i) for i in items)
    tasks = _session(config).config.tasks if claims else None
    if claims and not config.option.collectonly and not _session(config).config.stored_only:
        _check_store(config)
    for item in items:
        cell = cell_of(item)
        if cell is not None:
            item.stash[CELL_KEY] = cell
            if tasks is not None and cell.task not in tasks:
                dropped.append(item)
                continue
        keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    if claims and _is_worker(config):  # xdist hands out cells in collection order: costliest first
        from ._xdist import costliest_first

        items[:] = costliest_first(items, lambda i: i.stash.get(CELL_KEY, None))


def _check_store(config: pytest.Config) -> None:
    """Fail before anything runs, in one line, if the store cannot take a checkpoint (read-only, not a folder)
    or the snapshot interval in the environment is not one."""
    from ._errors import ConfigError
    from ._resume import snapshot_seconds

    try:
        _session(config).zoo.store.check_writable()
        snapshot_seconds()
    except ConfigError as exc:
        raise pytest.UsageError(f"pytest-interp: {exc}") from None


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Build every cell the selected claims need before they run, with progress (not on xdist workers)."""
    config = session.config
    if config.option.collectonly or _is_worker(config) or getattr(config.option, "numprocesses", None):
        return
    state = _session(config)
    todo = _cells_to_build(config, session.items)
    if not todo:
        return
    from ._errors import NotApplicable

    from ._progress import Progress

    progress = state.listener
    assert isinstance(progress, Progress)
    progress.total = len(todo)
    for i, cell in enumerate(todo, 1):
        progress.index = i
        try:
            state.zoo.subject(cell)
        except NotApplicable:
            pass
        except Exception as exc:  # the claims on this cell will report it as `error`
            state.build_errors[cell] = exc


def _cells_to_build(config: pytest.Config, items: Sequence[pytest.Item]) -> list["Cell"]:
    """The cells the selected claims will run on; computed once, when the plan line prints, reused by the run loop."""
    if TODO_KEY not in config.stash:
        from ._cell_plan import cells_to_build, item_spec

        claims = [(item_spec(i), i.stash[CELL_KEY]) for i in items if CELL_KEY in i.stash]
        config.stash[TODO_KEY] = cells_to_build(claims, _session(config).zoo)
    return config.stash[TODO_KEY]


def pytest_report_collectionfinish(config: pytest.Config, start_path: Path, items: Sequence[pytest.Item]) -> str | None:
    """Before anything trains, say how much will: the plan of a long run, also under --collect-only."""
    if _is_worker(config) or not any(CELL_KEY in item.stash for item in items):
        return None
    return _plan(config, items)


def _plan(config: pytest.Config, items: Sequence[pytest.Item]) -> str:
    from ._cell_plan import plan_line

    state = _session(config)
    left_out = None
    if state.config.stored_only:  # the worker still holds its list; the controller's is on the session
        left_out = len(config.stash[PENDING_KEY].get("not_stored", state.not_stored))
    return plan_line(_cells_to_build(config, items), state.zoo, left_out)


# -- the model fixture -------------------------------------------------------

@pytest.fixture(scope="session")
def model(request: pytest.FixtureRequest) -> Any:
    """The subject of this cell: loaded (or trained) once per session and shared by every claim.

    Session-scoped, so pytest groups the claims of one cell together and Hypothesis'
    `@given` claims see a long-lived fixture. Whether a claim may run on the cell at all
    (n/a, untrained) is decided per claim in `pytest_runtest_setup`, before this runs.
    """
    cell = getattr(request, "param", None)
    if cell is None:
        raise pytest.UsageError("the `model` fixture is parametrized by pytest-interp; do not override it")
    return _session(request.config).zoo.subject(cell)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Decide n/a (missing site or modality) and untrained before any fixture or claim runs."""
    cell = item.stash.get(CELL_KEY, None)
    if cell is None:
        return
    from ._cell_plan import item_spec, subject_outcome

    state = _session(item.config)
    skip = subject_outcome(item_spec(item), cell, state.zoo, state.build_errors, item.stash.setdefault(SUBJECT_KEY, {}))
    if skip is not None:
        pytest.skip(skip)


# -- outcomes ----------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    if CELL_KEY not in item.stash:
        return (yield)
    from ._errors import NotApplicable
    from ._measure import recording
    from ._outcomes import NA_PREFIX

    with recording() as sink:
        try:
            result = yield
        except NotApplicable as exc:
            pytest.skip(NA_PREFIX + str(exc))
        finally:
            item.stash[MEASURE_KEY] = [m.to_dict() for m in sink]
    if _session(item.config).config.controls:
        from ._controls import run_on_control

        item.stash[CONTROL_KEY] = run_on_control(item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                               ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    cell = item.stash.get(CELL_KEY, None)
    if cell is None:
        return report
    pending = item.config.stash[PENDING_KEY]
    if call.when == "setup":
        counters = _session(item.config).zoo.stats.counters
        stats = {"trained": pending["trained"], "loaded": pending["loaded"],
                 "forward_passes": counters.forward_passes - pending["forward_passes"],
                 "lines": pending["lines"], "not_stored": pending.pop("not_stored", [])}
        report.interp_stats = stats  # type: ignore[attr-defined]  # plain data on the report, so xdist relays it
        pending.update(trained=[], loaded=[], forward_passes=counters.forward_passes, lines=[])
    decided_now = (call.when == "setup" and not report.passed) or call.when == "call"
    if decided_now and "interp_done" not in item.stash.get(SUBJECT_KEY, {}):
        from ._records import counterexample, outcome_of, record

        outcome, reason = outcome_of(call, report)
        entry = record(item, cell, outcome, reason, info=item.stash.get(SUBJECT_KEY, {}),
                       measurements=item.stash.get(MEASURE_KEY, []), control=item.stash.get(CONTROL_KEY, None))
        entry["counterexample"] = counterexample(call)
        report.interp = entry  # type: ignore[attr-defined]
        item.stash.setdefault(SUBJECT_KEY, {})["interp_done"] = True
    if call.when == "call":
        counters = _session(item.config).zoo.stats.counters
        extra = counters.forward_passes - pending["forward_passes"]
        if extra:
            report.interp_stats = {"trained": [], "loaded": [], "forward_passes": extra}  # type: ignore[attr-defined]
            pending["forward_passes"] = counters.forward_passes
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    interp = getattr(report, "interp", None)
    if interp and interp["outcome"] == "error" and report.when == "call" and report.failed:
        return "error", "E", "ERROR"
    return None


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[RUN_KEY] = session
    config = session.config
    if not _is_worker(config):  # workers send their reports on; the controller collects them
        from ._summary import Collector

        config.pluginmanager.register(Collector(lambda: _session(config)), "interp-collector")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _is_worker(config) or SESSION_KEY not in config.stash or not config.stash[SESSION_KEY].results:
        return
    from ._records import stopped_early
    from ._summary import write_summary

    stop = stopped_early(config.stash[RUN_KEY], exitstatus) if RUN_KEY in config.stash else None
    write_summary(terminalreporter, config.stash[SESSION_KEY], stop)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if _is_worker(config) or SESSION_KEY not in config.stash:
        return
    state = config.stash[SESSION_KEY]
    if state.config.json_path is None:
        return
    from ._records import stopped_early
    from ._report import results

    results.write(state.config.json_path, state.document(stopped_early(session, exitstatus)))
