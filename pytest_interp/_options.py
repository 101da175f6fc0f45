"""The plugin's options: names, ini keys, help, and validation into one config object.

Pure Python (no pytest) so the console script and notebooks validate the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from typing import TYPE_CHECKING

from ._errors import ConfigError

if TYPE_CHECKING:
    from ._grid import GridSpec

ENV_STORE = "PYTEST_INTERP_STORE"
#: seconds of training between snapshots of a cell (default 60; 0: after every step; inf: never)
ENV_SNAPSHOT = "PYTEST_INTERP_SNAPSHOT_SECONDS"


@dataclass(frozen=True)
class Option:
    flag: str
    ini: str
    help: str
    metavar: str


MODELS = Option("--interp-models", "interp_models",
                "families (comma list), a preset (default, tiny) or a TOML zoo file", "SPEC")
SIZES = Option("--interp-sizes", "interp_sizes", "parameter-count targets, e.g. 1k,10k,100k", "LIST")
OPTIMIZERS = Option("--interp-optimizers", "interp_optimizers", "learning algorithms, e.g. sgd,adam", "LIST")
SEEDS = Option("--interp-seeds", "interp_seeds", "seeds per cell (a count)", "N")
JSON = Option("--interp-json", "interp_json", "write the results file (JSON) here", "PATH")
STORE = Option("--interp-store", "interp_store",
               f"checkpoint store folder (default: ${ENV_STORE} or the user cache folder)", "DIR")
QUORUM = Option("--interp-quorum", "interp_quorum",
                 "seeds that must hold for a `holds` verdict: a fraction (0.5, 50%%) or a count (2); default all",
                 "Q")
TASKS = Option("--interp-tasks", "interp_tasks", "run only the claims on these tasks, e.g. sparse-parity,digits", "LIST")
DEVICE = Option("--interp-device", "interp_device", "torch device: cpu (default), cuda, cuda:N or mps", "DEVICE")
ALL_OPTIONS: tuple[Option, ...] = (MODELS, SIZES, OPTIMIZERS, SEEDS, QUORUM, TASKS, JSON, STORE, DEVICE)
#: a switch rather than a value: `--interp-no-controls`, ini `interp_no_controls = true`
NO_CONTROLS = Option("--interp-no-controls", "interp_no_controls",
                     "do not run claims on each cell's untrained control (no `vacuous` flags)", "")
#: a switch: measure the cells already in the store and train nothing (a long study's results so far)
STORED_ONLY = Option("--interp-stored-only", "interp_stored_only",
                     "train nothing: run claims only on cells already in the store; the others are "
                     "deselected and listed in the results file (`not_stored`). Under -n, every worker "
                     "counts the cells stored when the run started", "")
SWITCHES: tuple[Option, ...] = (NO_CONTROLS, STORED_ONLY)


@dataclass(frozen=True)
class InterpConfig:
    grid: "GridSpec"
    json_path: Optional[Path]
    store_dir: Path
    device: str
    tasks: Optional[tuple[str, ...]] = None
    quorum: Any = None
    controls: bool = True
    stored_only: bool = False


Getter = Callable[[Option], Optional[str]]


def resolve(get: Getter, rootdir: Path) -> InterpConfig:
    """Build the config from option values (the flag already preferred over the ini key)."""
    from ._algorithms import ALGORITHMS
    from ._tasks import TASKS as TASK_REGISTRY
    from ._grid import check_names, parse_list, parse_models, parse_seeds, parse_sizes
    from ._store import default_store_dir

    # an option given empty (`--interp-sizes=`) is an error, never a silent default: None means not given
    models = get(MODELS)
    grid = parse_models(models, rootdir) if models is not None else parse_models("default")
    sizes, optimizers, seeds = get(SIZES), get(OPTIMIZERS), get(SEEDS)
    if sizes is not None:
        grid = _replace(grid, sizes=parse_sizes(sizes))
    if optimizers is not None:
        grid = _replace(grid, optimizers=check_names(parse_list(optimizers, "optimizers"), ALGORITHMS))
    if seeds is not None:
        grid = _replace(grid, seeds=parse_seeds(seeds))
    json_text = get(JSON)
    json_path = None
    if json_text:
        json_path = Path(json_text)
        if not json_path.is_absolute():
            json_path = Path.cwd() / json_path
        if json_path.is_dir():
            raise ConfigError(f"--interp-json {json_text!r} is a folder; give a file path")
    store_text = get(STORE)
    store_dir = Path(store_text).expanduser() if store_text else default_store_dir()
    if store_dir.exists() and not store_dir.is_dir():
        raise ConfigError(f"store {store_dir} exists and is not a folder")
    tasks_text = get(TASKS)
    tasks = check_names(parse_list(tasks_text, "tasks"), TASK_REGISTRY) if tasks_text is not None else None
    from ._verdicts import Quorum, parse_quorum

    quorum_text = get(QUORUM)
    quorum = parse_quorum(quorum_text) if quorum_text else Quorum()
    if quorum.count is not None and quorum.count > grid.seeds:
        raise ConfigError(f"quorum {quorum.count} is more than the {grid.seeds} seed(s) run")
    return InterpConfig(grid, json_path, store_dir, check_device(get(DEVICE) or "cpu"), tasks, quorum,
                        controls=not _switch(get, NO_CONTROLS), stored_only=_switch(get, STORED_ONLY))


def _switch(get: Getter, opt: Option) -> bool:
    return (get(opt) or "").strip().lower() in ("1", "true", "yes", "on")


def _replace(grid: "GridSpec", **kw: object) -> GridSpec:
    from dataclasses import replace

    return replace(grid, **kw)  # type: ignore[arg-type]


def check_device(text: str) -> str:
    text = text.strip()
    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", text):
        raise ConfigError(f"invalid device {text!r}: use cpu, cuda, cuda:N or mps")
    import torch

    if text.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {text!r} requested but CUDA is not available")
    if text == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ConfigError("device 'mps' requested but MPS is not available")
    return text
