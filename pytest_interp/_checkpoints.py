"""Models a zoo file names instead of generating them: `[[checkpoint]]` tables (DESIGN.md section 10).

A checkpoint is a safetensors file plus the family, family config and task it was trained
for. It becomes a cell of its own that is loaded, never trained. Files come from other
people, so everything is checked before use, at configure time, with one-line errors:
the path must stay inside the zoo file's folder (no `..`, no symlink out), pickle formats
are refused outright, the safetensors header must parse and account for every byte of the
file, and every tensor name, shape and dtype must match the family built on the meta device.
Nothing here ever calls `torch.load`. Hugging Face folders (`[[hf]]`) are in hf.py.
"""

from __future__ import annotations

import json
import re
import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ._errors import ConfigError, NonFiniteOutput
from ._grid import Cell
from ._sites import SiteRule
from ._tasks import TASKS, Task, make_task

#: suffixes of formats that unpickle (run code) on load
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")
#: bytes per element of every safetensors dtype
ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "I16": 2, "F16": 2, "BF16": 2,
            "U32": 4, "I32": 4, "F32": 4, "U64": 8, "I64": 8, "F64": 8}
TORCH_DTYPE = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16", torch.float16: "F16",
               torch.bfloat16: "BF16", torch.int32: "I32", torch.float32: "F32", torch.int64: "I64",
               torch.float64: "F64"}
MAX_HEADER = 100 * 2**20
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as a safetensors header declares it."""

    dtype: str
    shape: tuple[int, ...]


# -- paths and files -----------------------------------------------------------

def inside(root: Path, text: str, what: str) -> Path:
    """`text` resolved against `root`; refused when it leaves `root` through `..`, a symlink or an absolute path."""
    root = root.resolve()
    raw = Path(text).expanduser()
    target = (raw if raw.is_absolute() else root / raw).resolve()
    if target == root or root in target.parents:
        return target
    if ".." in raw.parts:
        how = "through '..'"
    elif raw.is_absolute():
        how = "(an absolute path)"
    else:
        how = f"through a symlink (it resolves to {target})"
    raise ConfigError(f"{what} {text!r} leaves {root} {how}: files must lie inside the zoo file's folder")


def refuse_pickle(path: Path, shown: str, where: str = "") -> None:
    """Pickle runs code on load: say how to convert instead of loading it."""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        out = Path(shown).with_suffix(".safetensors").as_posix()
        raise ConfigError(
            f"{where}{': ' if where else ''}refusing to load pickle checkpoint {shown} (unpickling can run code): "
            f"convert it once, in a trusted "
            f"environment, with `python -c \"import torch, safetensors.torch as st; "
            f"st.save_file(torch.load('{shown}', weights_only=True), '{out}')\"` and list {out} instead")


def read_header(path: Path, shown: str, where: str = "") -> dict[str, TensorInfo]:
    """Parse a safetensors header and check that its offsets account for every byte of the file."""
    try:
        return _read_header(path, shown)
    except ConfigError as exc:
        if not where:
            raise
        raise ConfigError(f"{where}: {exc}") from None


def _read_header(path: Path, shown: str) -> dict[str, TensorInfo]:
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            n = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
            if n < 0 or n > MAX_HEADER or 8 + n > size:
                raise ConfigError(f"{shown} is not a safetensors file, or it is truncated (its header does not fit "
                                  f"in {size} bytes)")
            raw = fh.read(n)
    except OSError as exc:
        raise ConfigError(f"cannot read {shown}: {exc.strerror}") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ConfigError(f"{shown} is not a safetensors file: its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise ConfigError(f"{shown} is not a safetensors file: its header is not a JSON object")
    out: dict[str, TensorInfo] = {}
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
            ok = dtype in ITEMSIZE and all(isinstance(d, int) and d >= 0 for d in shape)
            ok = ok and isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end
        except (TypeError, KeyError, ValueError):
            ok = False
        if not ok:
            raise ConfigError(f"{shown} is corrupt: tensor {name!r} has a malformed header entry")
        numel = 1
        for d in shape:
            numel *= d
        if end - begin != numel * ITEMSIZE[dtype]:
            raise ConfigError(f"{shown} is corrupt: tensor {name!r} ({dtype} {list(shape)}) spans {end - begin} bytes")
        spans.append((begin, end))
        out[name] = TensorInfo(dtype, shape)
    data = size - 8 - n
    spans.sort()
    needed = spans[-1][1] if spans else 0
    if needed > data:
        raise ConfigError(f"{shown} is truncated: its tensors need {needed} bytes of data, the file has {data}")
    if needed < data or any(a[1] != b[0] for a, b in zip(spans, spans[1:])) or (spans and spans[0][0] != 0):
        raise ConfigError(f"{shown} is corrupt: its tensor offsets do not cover the file's {data} data bytes exactly")
    try:  # and the library that will load it agrees
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            list(f.keys())
    except Exception as exc:  # SafetensorError and friends: a file we must not use
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"{shown} is not a valid safetensors file: {first}") from None
    return out


def size_label(n: int) -> str:
    """A parameter count as a size label with three significant digits: 9876 -> '9.88k', 22713216 -> '22.7m'."""
    if n < 1_000:
        return str(n)
    for mult, suffix in ((1_000, "k"), (1_000_000, "m")):
        value = Decimal(n) / mult
        digits = max(0, 3 - len(str(int(value))))
        text = f"{value:.{digits}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        if Decimal(text) < 1_000 or suffix == "m":
            return text + suffix
    raise AssertionError("unreachable")


def compare(expected: Mapping[str, TensorInfo], found: Mapping[str, TensorInfo], shown: str, model: str,
            optional: frozenset[str] = frozenset(), allow_extra: bool = False) -> None:
    """One line naming the first tensor whose name, shape or dtype does not fit (and how many more do not)."""
    problems = []
    for name, want in expected.items():
        got = found.get(name)
        if got is None:
            if name not in optional:
                problems.append(f"tensor {name} is missing from the file")
        elif got.shape != want.shape:
            problems.append(f"tensor {name} has shape {list(got.shape)} in the file, {list(want.shape)} in the model")
        elif got.dtype != want.dtype:
            problems.append(f"tensor {name} is {got.dtype} in the file, {want.dtype} in the model")
    if not allow_extra:
        problems += [f"the file has tensor {name}, which the model lacks" for name in sorted(set(found) - set(expected))]
    if problems:
        more = f" (and {len(problems) - 1} more mismatches)" if len(problems) > 1 else ""
        raise ConfigError(f"{shown} does not fit {model}: {problems[0]}{more}")


def state_infos(module: nn.Module) -> dict[str, TensorInfo]:
    """Names, dtypes and shapes of a module's state dict (works on the meta device)."""
    out = {}
    for name, t in module.state_dict().items():
        if t.dtype not in TORCH_DTYPE:
            raise ConfigError(f"tensor {name} has dtype {t.dtype}, which safetensors cannot hold")
        out[name] = TensorInfo(TORCH_DTYPE[t.dtype], tuple(t.shape))
    return out


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
