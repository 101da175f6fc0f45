"""Models a zoo file names instead of generating them: `[[checkpoint]]` tables (DESIGN.md section 10).

A checkpoint is a safetensors file plus the family, family config and task it was trained
for. It becomes a cell of its own that is loaded, never trained. Files come from other
people, so everything is checked before use, at configure time, with one-line errors:
the path must stay inside the zoo file's folder (no `..`, no symlink out), pickle formats
are refused outright, the safetensors header must parse and account for every byte of the
file, and every tensor name, shape and dtype must match the family built on the meta device.
The file checks are in `_safe_files.py`; nothing ever calls `torch.load`. Hugging Face
folders (`[[hf]]`) are in `_hf.py`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ._errors import ConfigError, NonFiniteOutput
from ._grid import Cell
from ._safe_files import compare, inside, read_header, refuse_pickle, size_label, state_infos
from ._sites import SiteRule
from ._tasks import TASKS, Task, make_task

#: a model's name in a zoo file: it becomes part of cell keys and file names
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_finite(outputs: torch.Tensor, cell: Cell, source: str) -> None:
    """A model that outputs NaN or inf cannot be measured: say so, instead of reporting holds or breaks."""
    if outputs.is_floating_point() and not torch.isfinite(outputs).all():
        bad = int((~torch.isfinite(outputs)).reshape(outputs.shape[0], -1).any(1).sum())
        raise NonFiniteOutput(f"{cell.key}: {source} outputs NaN or inf on {bad} of {outputs.shape[0]} inputs "
                              "of the task's test set")


# -- sources -------------------------------------------------------------------

class Source(ABC):
    """A model named by the zoo file: loaded from files, never trained, one cell of its own."""

    kind: str  # "ckpt" or "hf": the cell id's prefix

    def __init__(self, name: str, family: str, optimizer: str, seed: int, task: Task, options: Mapping[str, Any],
                 shown: str) -> None:
        self.name, self.family, self.optimizer, self.seed = name, family, optimizer, seed
        #: the task options the zoo file gave (they appear in the cell's task label)
        self.task, self.options, self.shown = task, dict(options), shown

    @property
    @abstractmethod
    def params(self) -> int: ...

    @property
    @abstractmethod
    def roles(self) -> tuple[str, ...]: ...

    @abstractmethod
    def load(self) -> tuple[nn.Module, dict[str, SiteRule], str]:
        """The module with the file's weights, its site rules, and a digest of the weights."""

    @abstractmethod
    def control(self) -> nn.Module:
        """The same architecture at a seeded initialization: the untrained control."""

    @abstractmethod
    def evaluate(self, module: nn.Module, device: str) -> dict[str, Any]:
        """Training metrics in the form the plugin reads (`reached`, `test_accuracy`, `target`)."""

    def unsupported(self, spec: Any) -> str | None:
        return None

    @property
    def cell(self) -> Cell:
        return Cell(self.family, size_label(self.params), self.optimizer, self.task.name, self.seed,
                    tuple(sorted(self.options.items())), source=f"{self.kind}-{self.name}")

    def learns(self, task: str, options: Mapping[str, Any]) -> bool:
        """Whether a claim on (task, options) runs on this model: the same task with the same data config."""
        if task != self.task.name:
            return False
        try:
            return make_task(task, **dict(options)).describe() == self.task.describe()
        except ValueError:
            return False

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "path": self.shown, "family": self.family,
                "params": self.params, "task": self.cell.task_label}


class CheckpointSource(Source):
    """A safetensors state dict of one of our (or a registered) families."""

    kind = "ckpt"

    def __init__(self, name: str, path: Path, shown: str, family_obj: Any, config: dict[str, Any], task: Task,
                 optimizer: str, seed: int, options: Mapping[str, Any], where: str) -> None:
        super().__init__(name, family_obj.name, optimizer, seed, task, options, shown)
        self.path, self.family_obj, self.config = path, family_obj, dict(config)
        model = f"{family_obj.name} {self.config}"
        reason = family_obj.unsupported(task.spec)
        if reason:
            raise ConfigError(f"{where}: {reason}")
        try:
            with torch.device("meta"):
                module = family_obj.build(dict(self.config), task.spec)
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise ConfigError(f"{where}: config {self.config} does not build a {family_obj.name} for "
                              f"task {task.name}: {type(exc).__name__}: {first}") from None
        self._params = sum(p.numel() for p in module.parameters())
        compare(state_infos(module), read_header(path, shown, where), f"{where}: {shown}", model)

    @property
    def params(self) -> int:
        return self._params

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self.family_obj.sites)

    def unsupported(self, spec: Any) -> str | None:
        return self.family_obj.unsupported(spec)

    def load(self) -> tuple[nn.Module, dict[str, SiteRule], str]:
        from safetensors.torch import load_file

        from ._store import tensor_digest

        read_header(self.path, self.shown)  # the file may have changed since configure
        tensors = load_file(str(self.path))
        module = self.control()
        module.load_state_dict(tensors, strict=True)
        return module, dict(self.family_obj.sites), tensor_digest(tensors)

    def control(self) -> nn.Module:
        """Seeded exactly like a generated cell of the same family and seed (train.initialize)."""
        from ._train import Plan, initialize

        return initialize(Plan(self.cell, self.task, dict(self.config), self.params, {}, {}))

    def evaluate(self, module: nn.Module, device: str) -> dict[str, Any]:
        test = self.task.test_set()
        was = module.training
        module.eval()
        with torch.no_grad():
            logits = module.to(device)(test.x.to(device))
        module.train(was)
        check_finite(logits, self.cell, f"checkpoint {self.name!r}")
        acc = self.task.accuracy(logits, test.y.to(device))
        target = self.task.accuracy_target
        return {"test_accuracy": round(acc, 6), "target": target, "reached": acc >= target, "diverged": False,
                "checkpoint": self.shown}


# -- zoo-file tables -------------------------------------------------------------

_COMMON = {"name", "task", "task_options", "optimizer", "seed", "family"}
_CKPT_KEYS = _COMMON | {"file", "config"}


def common(entry: Any, table: str, path: Path, keys: set[str], required: set[str]) -> dict[str, Any]:
    """Checks shared by [[checkpoint]] and [[hf]]: known keys, a safe name, a known task, label types."""
    if not isinstance(entry, dict):
        raise ConfigError(f"zoo file {path}: each [[{table}]] must be a table")
    name = entry.get("name", "?")
    extra, missing = set(entry) - keys, required - set(entry)
    if extra or missing:
        problem = f"unknown key(s) {', '.join(sorted(extra))}" if extra else f"missing {', '.join(sorted(missing))}"
        raise ConfigError(f"zoo file {path}: [[{table}]] {name!r}: {problem}")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"zoo file {path}: [[{table}]] name {name!r}: use letters, digits, '-', '_' or '.'")
    where = f"zoo file {path}: {table} {name!r}"
    task_name = entry["task"]
    if not isinstance(task_name, str) or task_name not in TASKS:
        raise ConfigError(f"{where}: unknown task {task_name!r} (known: {', '.join(TASKS.names())})")
    options = entry.get("task_options", {})
    if not isinstance(options, dict) or "shuffle_labels" in options:
        raise ConfigError(f"{where}: task_options must be a table of the task's options")
    scalar = (str, int, float, bool)
    if not all(isinstance(v, scalar) or (isinstance(v, list) and all(isinstance(x, scalar) for x in v))
               for v in options.values()):
        raise ConfigError(f"{where}: task_options values must be numbers, strings, booleans or lists of them")
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    try:
        task = make_task(task_name, **options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    for key in ("optimizer", "family"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, str) or not _NAME.match(value)):
            raise ConfigError(f"{where}: {key} must be a label of letters, digits, '-', '_' or '.'")
    seed = entry.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise ConfigError(f"{where}: seed must be a non-negative integer")
    return {"name": name, "where": where, "task": task, "options": options, "seed": seed,
            "optimizer": entry.get("optimizer"), "family": entry.get("family")}


def load_checkpoints(entries: Any, path: Path, declared: Mapping[str, Any]) -> list[CheckpointSource]:
    """[[checkpoint]] tables -> validated sources (families: declared in the zoo file, else registered)."""
    from ._families import FAMILIES

    if not isinstance(entries, list):
        raise ConfigError(f"zoo file {path}: use [[checkpoint]] tables to list checkpoints")
    out = []
    for entry in entries:
        c = common(entry, "checkpoint", path, _CKPT_KEYS, {"name", "file", "family", "config", "task"})
        family_name = c["family"]
        family = declared.get(family_name) or (FAMILIES.get(family_name) if family_name in FAMILIES else None)
        if family is None:
            known = ", ".join(sorted(set(FAMILIES.names()) | set(declared)))
            raise ConfigError(f"{c['where']}: unknown family {family_name!r} (known: {known})")
        if not isinstance(entry["config"], dict):
            raise ConfigError(f"{c['where']}: config must be a table (the family config, e.g. "
                              "{width = 16, depth = 2, embed_dim = 4})")
        if not isinstance(entry["file"], str):
            raise ConfigError(f"{c['where']}: file must be a path")
        target = inside(path.parent, entry["file"], f"{c['where']}: file")
        refuse_pickle(target, entry["file"], c["where"])
        if not target.is_file():
            raise ConfigError(f"{c['where']}: file not found: {entry['file']}")
        if target.suffix != ".safetensors":
            raise ConfigError(f"{c['where']}: {entry['file']} is not a .safetensors file")
        out.append(CheckpointSource(c["name"], target, entry["file"], family, entry["config"], c["task"],
                                    c["optimizer"] or "external", c["seed"], c["options"], c["where"]))
    return out


def check_unique(sources: list[Source], path: Path) -> None:
    """Two sources with one name, or one (family, size, optimizer, task, seed), would merge in the report."""
    seen: dict[Any, str] = {}
    names: set[str] = set()
    for s in sources:
        if s.name in names:
            raise ConfigError(f"zoo file {path}: two models are named {s.name!r}")
        names.add(s.name)
        c = s.cell
        axes = (c.family, c.size, c.optimizer, c.task_label, c.seed)
        if axes in seen:
            raise ConfigError(f"zoo file {path}: {seen[axes]!r} and {s.name!r} share family, size, optimizer, task "
                              "and seed: give one of them another `seed` or `optimizer` label")
        seen[axes] = s.name
