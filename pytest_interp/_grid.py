"""Spec strings and zoo files -> the grid of cells (DESIGN.md section 4).

Everything here validates user text and raises ConfigError with a one-line message;
nothing here trains or imports pytest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Mapping

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from ._algorithms import ALGORITHMS
from ._errors import ConfigError
from ._families import FAMILIES
from ._tasks import DEFAULT_TASK, TASKS

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([km]?)$")
_MULT = {"": 1, "k": 1_000, "m": 1_000_000}
MIN_PARAMS, MAX_PARAMS = 100, 100_000_000
MAX_SEEDS = 100


@dataclass(frozen=True, order=True)
class Cell:
    """One point of the grid: family x size x learning algorithm x task x seed."""

    family: str
    size: str
    optimizer: str
    task: str
    seed: int
    task_options: tuple[tuple[str, Any], ...] = ()
    #: "" for a generated cell; "ckpt-<name>" or "hf-<name>" for a model the zoo file names (checkpoints.py)
    source: str = ""

    @property
    def params_target(self) -> int:
        return parse_size(self.size)

    @property
    def id(self) -> str:
        """The pytest parameter id: the task is fixed per claim, so it is left out."""
        if self.source:
            return f"{self.source}-s{self.seed}"
        return f"{self.family}-{self.size}-{self.optimizer}-s{self.seed}"

    @property
    def task_label(self) -> str:
        if not self.task_options:
            return self.task
        opts = ",".join(f"{k}={_fmt(v)}" for k, v in self.task_options)
        return f"{self.task}[{opts}]"

    @property
    def key(self) -> str:
        """Stable across runs and machines; baselines and merges key on it.

        A named model keys on its name, not its file's content: a new release candidate under
        the same name is compared with the old one.
        """
        if self.source:
            return f"{self.source}-{self.task_label}-s{self.seed}"
        return f"{self.family}-{self.size}-{self.optimizer}-{self.task_label}-s{self.seed}"


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "(" + "+".join(str(x) for x in v) + ")"
    return str(v)


@dataclass(frozen=True)
class GridSpec:
    """The axes of a run; the task axis comes from each claim."""

    families: tuple[str, ...]
    sizes: tuple[str, ...]
    optimizers: tuple[str, ...]
    seeds: int = 1
    hparams: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    budget: Mapping[str, int] = field(default_factory=dict)
    #: families declared by the zoo file itself ([[family]] tables), registered for the run
    declared: tuple[Any, ...] = ()
    #: models the zoo file names ([[checkpoint]], [[hf]]): loaded, never trained (checkpoints.Source)
    sources: tuple[Any, ...] = ()

    def cells(self, task: str = DEFAULT_TASK, task_options: Mapping[str, Any] | None = None) -> list[Cell]:
        """Generated cells, then the named models that learned this task (the others are left out)."""
        opts = tuple(sorted((task_options or {}).items()))
        cells = [
            Cell(f, s, o, task, seed, opts)
            for f in self.families
            for s in self.sizes
            for o in self.optimizers
            for seed in range(self.seeds)
        ]
        if not self.sources:
            return cells
        axes = {(c.family, c.size, c.optimizer, c.seed): c for c in cells}
        for src in self.sources:
            if not src.learns(task, dict(task_options or {})):
                continue
            cell = src.cell
            clash = axes.get((cell.family, cell.size, cell.optimizer, cell.seed))
            if clash is not None:
                raise ConfigError(f"model {src.name!r} has the family, size, optimizer and seed of the generated "
                                  f"cell {clash.id}: give it another `optimizer` or `seed` label in the zoo file")
            cells.append(cell)
        return cells


PRESETS: dict[str, GridSpec] = {
    # Small enough that the README's main command finishes in a few minutes on 2 cores.
    # Four families spanning feed-forward, convolutional, recurrent and attention models;
    # trains in about a minute of CPU (ssm and gru leave cells untrained under sgd).
    "default": GridSpec(("mlp", "cnn", "lstm", "transformer"), ("1k", "10k"), ("sgd", "adam"), seeds=1),
    "tiny": GridSpec(("mlp",), ("1k",), ("adam",), seeds=1),
}


def parse_size(text: str) -> int:
    """'10k' -> 10000; sizes are parameter-count targets with SI suffixes k and m."""
    m = _SIZE.match(text.strip().lower())
    if not m:
        raise ConfigError(f"invalid size {text!r}: use a parameter count like 1k, 10k, 2.5k or 1m")
    try:  # decimal, not float: 9.9k is 9900 exactly
        value = Decimal(m.group(1)) * _MULT[m.group(2)]
    except InvalidOperation:
        raise ConfigError(f"invalid size {text!r}") from None
    if value != int(value):
        raise ConfigError(f"invalid size {text!r}: not a whole number of parameters")
    if not MIN_PARAMS <= value <= MAX_PARAMS:
        raise ConfigError(f"size {text!r} is out of range: use {MIN_PARAMS} to 100m parameters")
    return int(value)


def parse_list(text: str, what: str) -> list[str]:
    """A comma list with no empty items and no repeats."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"empty list of {what}")
    items = [t.strip() for t in text.split(",")]
    if any(not t for t in items):
        raise ConfigError(f"malformed list of {what} {text!r}: empty item")
    dup = sorted({t for t in items if items.count(t) > 1})
    if dup:
        raise ConfigError(f"{what} listed twice: {', '.join(dup)}")
    return items


def check_names(names: Iterable[str], registry: Any) -> tuple[str, ...]:
    out = []
    for n in names:
        if n not in registry:
            known = ", ".join(registry.names())
            raise ConfigError(f"unknown {registry.kind} {n!r} (known: {known})")
        out.append(n)
    return tuple(out)


def parse_sizes(text: str) -> tuple[str, ...]:
    items = parse_list(text, "sizes")
    labels = []
    for t in items:
        parse_size(t)
        labels.append(t.strip().lower())
    return tuple(labels)


def parse_seeds(value: Any) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"\d+", text) or not 1 <= int(text) <= MAX_SEEDS:
        raise ConfigError(f"invalid seed count {value!r}: use a whole number from 1 to {MAX_SEEDS}")
    return int(text)


def parse_models(text: str, root: Path | None = None) -> GridSpec:
    """A preset name, a path to a TOML zoo file, or a comma list of families."""
    text = text.strip()
    if text in PRESETS:
        return PRESETS[text]
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text).expanduser()
        if not path.is_absolute() and not path.exists() and root is not None:
            path = root / path  # an ini value is relative to the ini file's folder
        return load_zoo(path)
    families = check_names(parse_list(text, "families"), FAMILIES)
    base = PRESETS["default"]
    return replace(base, families=families)


_ZOO_KEYS = {"families", "sizes", "optimizers", "seeds"}


def load_zoo(path: Path) -> GridSpec:
    """Read a zoo file: [grid], [hparams.<algorithm>], [budget], [[family]], [[checkpoint]] and [[hf]] tables.

    The format, with a complete example, is in docs/zoo-file.md.
    """
    if not path.is_file():
        raise ConfigError(f"zoo file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"zoo file {path} is not valid TOML: {first}") from None
    extra = set(data) - {"grid", "hparams", "budget", "family", "checkpoint", "hf"}
    if extra:
        raise ConfigError(f"zoo file {path}: unknown table(s) {', '.join(sorted(extra))}")
    named = "checkpoint" in data or "hf" in data
    grid = data.get("grid", {} if named else None)
    if not isinstance(grid, dict):
        raise ConfigError(f"zoo file {path}: missing [grid] table")
    extra = set(grid) - _ZOO_KEYS
    if extra:
        raise ConfigError(f"zoo file {path}: unknown key(s) in [grid]: {', '.join(sorted(extra))}")
    base = PRESETS["default"]

    def as_list(key: str) -> str | None:
        v = grid.get(key)
        if v is None:
            return None
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ConfigError(f"zoo file {path}: [grid] {key} must be a list of strings")
        if not v:
            raise ConfigError(f"zoo file {path}: the grid is empty: [grid] {key} lists nothing")
        return ",".join(v)

    fam, siz, opt = as_list("families"), as_list("sizes"), as_list("optimizers")
    declared = _load_families(data.get("family", []), path)
    known = _Known(FAMILIES, [f.name for f in declared])
    sources = _load_sources(data, path, {f.name: f for f in declared})
    if fam is not None:
        families = check_names(parse_list(fam, "families"), known)
    else:  # a zoo file that only names models generates nothing unless [grid] says so
        families = () if named else base.families
    if not families and not sources:
        raise ConfigError(f"zoo file {path}: the grid is empty: no [grid] families and no [[checkpoint]] or [[hf]] "
                          "models")
    spec = GridSpec(
        families=families,
        sizes=parse_sizes(siz) if siz is not None else base.sizes,
        optimizers=check_names(parse_list(opt, "optimizers"), ALGORITHMS) if opt is not None else base.optimizers,
        seeds=parse_seeds(grid["seeds"]) if "seeds" in grid else base.seeds,
        hparams=_load_hparams(data.get("hparams", {}), path),
        budget=_load_budget(data.get("budget", {}), path),
        declared=tuple(declared),
        sources=tuple(sources),
    )
    return spec


def _load_sources(data: Mapping[str, Any], path: Path, declared: Mapping[str, Any]) -> list[Any]:
    """[[checkpoint]] and [[hf]] tables -> validated models (checkpoints.py, hf.py)."""
    if "checkpoint" not in data and "hf" not in data:
        return []
    from ._checkpoints import check_unique, load_checkpoints

    sources: list[Any] = load_checkpoints(data.get("checkpoint", []), path, declared)
    if "hf" in data:
        from ._hf import load_hf

        sources += load_hf(data["hf"], path)
    check_unique(sources, path)
    return sources


class _Known:
    """A registry's names plus names declared in the zoo file, for validation."""

    def __init__(self, registry: Any, extra: list[str]) -> None:
        self.kind = registry.kind
        self._names = set(registry.names()) | set(extra)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def names(self) -> list[str]:
        return sorted(self._names)


_FAMILY_KEYS = {"name", "build", "sites", "modalities", "outputs", "widths"}


def _load_families(entries: Any, path: Path) -> list[Any]:
    """[[family]] tables: a builder in a .py file next to the zoo file, and its site mapping."""
    from ._extend import ModuleFamily, load_module_file

    if not isinstance(entries, list):
        raise ConfigError(f"zoo file {path}: use [[family]] tables to declare families")
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ConfigError(f"zoo file {path}: each [[family]] must be a table")
        extra = set(entry) - _FAMILY_KEYS
        missing = {"name", "build", "sites"} - set(entry)
        if extra or missing:
            problem = f"unknown key(s) {', '.join(sorted(extra))}" if extra else f"missing {', '.join(sorted(missing))}"
            raise ConfigError(f"zoo file {path}: [[family]] {entry.get('name', '?')!r}: {problem}")
        name, build = entry["name"], entry["build"]
        if not isinstance(build, str) or build.count(":") != 1:
            raise ConfigError(f"zoo file {path}: family {name!r}: build must be 'file.py:function'")
        file_part, func = build.split(":")
        module = load_module_file(Path(file_part), path.parent)
        fn = getattr(module, func, None)
        if not callable(fn):
            raise ConfigError(f"zoo file {path}: family {name!r}: {file_part} has no function {func!r}")
        if not isinstance(entry["sites"], dict):
            raise ConfigError(f"zoo file {path}: family {name!r}: sites must be a table")
        kwargs = {k: entry[k] for k in ("modalities", "outputs", "widths") if k in entry}
        try:
            out.append(ModuleFamily(str(name), fn, entry["sites"], **kwargs))
        except ConfigError as exc:
            raise ConfigError(f"zoo file {path}: family {name!r}: {exc}") from None
    return out


def _load_hparams(table: Any, path: Path) -> dict[str, dict[str, Any]]:
    if not isinstance(table, dict):
        raise ConfigError(f"zoo file {path}: [hparams] must be a table")
    out: dict[str, dict[str, Any]] = {}
    for algo, values in table.items():
        check_names([algo], ALGORITHMS)
        if not isinstance(values, dict):
            raise ConfigError(f"zoo file {path}: [hparams.{algo}] must be a table")
        try:
            out[algo] = ALGORITHMS.get(algo).hparams(values)
        except ValueError as exc:
            raise ConfigError(f"zoo file {path}: {exc}") from None
    return out


_BUDGET = {"steps": (1, 1_000_000), "batch_size": (1, 65_536), "eval_every": (1, 1_000_000)}


def _load_budget(table: Any, path: Path) -> dict[str, int]:
    """[budget] overrides the task's training budget (steps, batch_size, eval_every) for every cell."""
    if not isinstance(table, dict):
        raise ConfigError(f"zoo file {path}: [budget] must be a table")
    out = {}
    for key, value in table.items():
        if key not in _BUDGET:
            raise ConfigError(f"zoo file {path}: unknown key {key!r} in [budget] (known: {', '.join(_BUDGET)})")
        lo, hi = _BUDGET[key]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ConfigError(f"zoo file {path}: [budget] {key} must be an integer from {lo} to {hi}")
        out[key] = value
    return out


def check_task(name: str) -> str:
    check_names([name], TASKS)
    return name
