"""Files from other people, checked before use: paths that stay in their folder, no pickle
formats, safetensors headers parsed by hand (every byte accounted for) and compared with the
model they are meant to fit. Nothing here ever calls `torch.load`.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ._errors import ConfigError

#: suffixes of formats that unpickle (run code) on load
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")
#: bytes per element of every safetensors dtype
ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "I16": 2, "F16": 2, "BF16": 2,
            "U32": 4, "I32": 4, "F32": 4, "U64": 8, "I64": 8, "F64": 8}
TORCH_DTYPE = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16", torch.float16: "F16",
               torch.bfloat16: "BF16", torch.int32: "I32", torch.float32: "F32", torch.int64: "I64",
               torch.float64: "F64"}
MAX_HEADER = 100 * 2**20


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
