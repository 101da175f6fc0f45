"""Extension points: other labs' families, learning algorithms, tasks and instruments.

One mechanism, in the style of pytest plugins: a function `register(registrar)`, found
either through the entry-point group `pytest_interp` of an installed package, or as the
`pytest_interp_register(registrar)` hook in a conftest.py. What it registers becomes a
valid name for `--interp-models`, `--interp-optimizers` and `@claim(task=...)`.

Any torch module becomes a family with `registrar.family(name, build, sites)`: `sites`
maps roles to module paths (`{i}` for repeated blocks, e.g. "encoder.layers.{i}"), with
an optional tuple element and per-time-step reading for (time, batch, ...) outputs.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from torch import nn

from ._algorithms import ALGORITHMS, Algorithm
from ._errors import ConfigError
from ._families import FAMILIES, Family
from ._registry import Registry
from ._sites import ROLES, SiteRule
from ._tasks import TASKS, InputSpec, Task

ENTRY_POINT_GROUP = "pytest_interp"
INSTRUMENTS: Registry[Callable[..., Any]] = Registry("instrument")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z0-9_]+|\{i\}))*$")

Builder = Callable[..., nn.Module]


def site_rules(mapping: Mapping[str, Any]) -> dict[str, SiteRule]:
    """Validate a role -> module path mapping (a string, or a table with path/element/time_first)."""
    rules: dict[str, SiteRule] = {}
    for role, value in mapping.items():
        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r} in site mapping; roles are {', '.join(ROLES)}")
        if isinstance(value, str):
            value = {"path": value}
        if not isinstance(value, Mapping) or not isinstance(value.get("path"), str):
            raise ConfigError(f"site {role!r}: give a module path, or a table with a 'path'")
        extra = set(value) - {"path", "element", "time_first"}
        if extra:
            raise ConfigError(f"site {role!r}: unknown key(s) {', '.join(sorted(extra))}")
        path = value["path"]
        if not _PATH.match(path) or path.count("{i}") > 1:
            raise ConfigError(f"site {role!r}: invalid module path {path!r} (dotted names, at most one {{i}})")
        element = value.get("element")
        if element is not None and (isinstance(element, bool) or not isinstance(element, int) or element < 0):
            raise ConfigError(f"site {role!r}: element must be a non-negative integer")
        repeat = path.split(".{i}")[0] if "{i}" in path else None
        rules[role] = SiteRule(path, repeat=repeat, element=element, time_first=bool(value.get("time_first", False)))
    return rules


class ModuleFamily(Family):
    """A family made of a user's builder and site mapping.

    `build(spec)` returns the module; with `widths`, `build(spec, width)` and the size rule
    picks the width nearest the parameter target, like the built-in families.
    """

    def __init__(self, name: str, build: Builder, sites: Mapping[str, Any],
                 modalities: Sequence[str] = ("tokens", "vectors", "images"),
                 outputs: Sequence[str] = ("class", "vector"), widths: Sequence[int] | None = None) -> None:
        self.name = name  # type: ignore[misc]
        self.sites = site_rules(sites)  # type: ignore[misc]
        self.modalities = tuple(modalities)  # type: ignore[misc]
        self.outputs = tuple(outputs)  # type: ignore[misc]
        self._build = build
        self._widths = sorted(set(widths)) if widths else None

    def candidates(self, target: int, spec: InputSpec) -> Sequence[dict[str, Any]]:
        return [{"width": w} for w in self._widths] if self._widths else [{}]

    def build(self, config: dict[str, Any], spec: InputSpec) -> nn.Module:
        module = self._build(spec, config["width"]) if "width" in config else self._build(spec)
        if not isinstance(module, nn.Module):
            raise TypeError(f"family {self.name!r}: build returned {type(module).__name__}, not a torch module")
        return module


class Registrar:
    """What a `register(registrar)` function receives; remembers what it added so it can be undone."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self._added: list[tuple[Registry[Any], str]] = []

    def _add(self, registry: Registry[Any], name: str, item: Any) -> Any:
        try:
            registry.register(name, item, self.origin)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self._added.append((registry, name))
        return item

    def family(self, family: Family | str, build: Builder | None = None, sites: Mapping[str, Any] | None = None,
               **options: Any) -> Family:
        """Register a Family instance, or build one from a builder and a site mapping."""
        if isinstance(family, str):
            if build is None or sites is None:
                raise ConfigError(f"family {family!r}: give build= and sites=")
            family = ModuleFamily(family, build, sites, **options)
        return self._add(FAMILIES, family.name, family)

    def algorithm(self, algorithm: Algorithm) -> Algorithm:
        return self._add(ALGORITHMS, algorithm.name, algorithm)

    def task(self, task: type[Task]) -> type[Task]:
        return self._add(TASKS, task.name, task)

    def instrument(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        return self._add(INSTRUMENTS, name, fn)

    def undo(self) -> None:
        for registry, name in reversed(self._added):
            registry.unregister(name)
        self._added.clear()


_loaded: list[Registrar] = []


def load_entry_points() -> list[Registrar]:
    """Run every installed package's `register` function once per process."""
    if _loaded:
        return _loaded
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        origin = f"plugin {ep.name!r}" + (f" ({dist.name})" if (dist := getattr(ep, "dist", None)) else "")
        registrar = Registrar(origin)
        try:
            register = ep.load()
            register(registrar)
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(f"{origin} failed to register: {type(exc).__name__}: {exc}") from None
        _loaded.append(registrar)
    if not _loaded:
        _loaded.append(Registrar("none"))
    return _loaded


def instrument(name: str) -> Callable[..., Any]:
    """A registered instrument by name (built-in instruments are found by their function names)."""
    if name not in INSTRUMENTS:
        from . import _instruments as instruments

        if name in getattr(instruments, "__all__", []):
            return getattr(instruments, name)
    return INSTRUMENTS.get(name)


def load_module_file(path: Path, root: Path) -> Any:
    """Import a Python file that lives inside `root` (a zoo file's folder), never outside it."""
    root = root.resolve()
    target = (root / path).resolve() if not path.is_absolute() else path.resolve()
    if root not in target.parents or target.suffix != ".py":
        raise ConfigError(f"module file {path} must be a .py file inside {root}")
    if not target.is_file():
        raise ConfigError(f"module file not found: {target}")
    name = "pytest_interp_user_" + re.sub(r"\W", "_", str(target.relative_to(root)))[:-3]
    spec = importlib.util.spec_from_file_location(name, target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise ConfigError(f"module file {target} failed to import: {type(exc).__name__}: {exc}") from None
    return module
