"""Training snapshots, so a cell interrupted mid-way (Ctrl-C, a CI timeout, a lost worker) goes on
from where it stopped instead of from step 0.

A snapshot is one safetensors file beside the cell's checkpoint (`<key>.resume`): the model, the
learning algorithm's state, the data generator and the loop's counters. Nested state (torch
optimizers' state dicts, lists of L-BFGS history tensors) is split into flat tensors plus a JSON
skeleton in the header, so nothing is ever pickled. A resumed cell gives bit-identical weights to
an uninterrupted one on the same device: the snapshot holds everything the remaining steps read.
A snapshot that does not check out (another cell or device, a torn file, a wrong digest, a state
that does not fit) is ignored and removed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any, TypeGuard

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ._errors import ConfigError
from ._options import ENV_SNAPSHOT
from ._store import publish, tensor_digest

#: Seconds of training between snapshots: rare enough to cost nothing, often enough to lose little.
SNAPSHOT_EVERY_S = 60.0
META = "pytest_interp_resume"
FORMAT = 1


def snapshot_seconds() -> float:
    """Seconds between snapshots: $PYTEST_INTERP_SNAPSHOT_SECONDS if set (0: every step, inf: never), else the default."""
    raw = os.environ.get(ENV_SNAPSHOT, "").strip()
    if not raw:
        return SNAPSHOT_EVERY_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # NaN too
        raise ConfigError(f"${ENV_SNAPSHOT} must be a number of seconds, 0 or more (inf: never); got {raw!r}")
    return value


def pack(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """A JSON skeleton of `tree`; its tensors go into `tensors` under generated names."""
    if isinstance(tree, torch.Tensor):
        name = f"t{len(tensors)}"
        tensors[name] = tree.detach().cpu().contiguous()
        return {"$t": name}
    if isinstance(tree, bool) or tree is None or isinstance(tree, (int, str)):
        return tree
    if isinstance(tree, float):
        return tree if math.isfinite(tree) else {"$f": repr(tree)}
    if isinstance(tree, dict):
        return {"$d": [[pack(k, tensors), pack(v, tensors)] for k, v in tree.items()]}
    if isinstance(tree, list):
        return {"$l": [pack(v, tensors) for v in tree]}
    if isinstance(tree, tuple):
        return {"$u": [pack(v, tensors) for v in tree]}
    raise TypeError(f"cannot snapshot a {type(tree).__name__}")


def unpack(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The tree `pack` took apart; KeyError or ValueError if the skeleton does not fit the tensors."""
    if isinstance(skeleton, dict):
        if set(skeleton) == {"$t"}:
            return tensors[skeleton["$t"]]
        if set(skeleton) == {"$f"}:
            return float(skeleton["$f"])
        if set(skeleton) == {"$d"}:
            return {_hashable(unpack(k, tensors)): unpack(v, tensors) for k, v in skeleton["$d"]}
        if set(skeleton) == {"$l"}:
            return [unpack(v, tensors) for v in skeleton["$l"]]
        if set(skeleton) == {"$u"}:
            return tuple(unpack(v, tensors) for v in skeleton["$u"])
        raise ValueError(f"unknown snapshot node {sorted(skeleton)}")
    if isinstance(skeleton, list):
        raise ValueError("bare list in a snapshot skeleton")
    return skeleton


def _hashable(key: Any) -> Any:
    if isinstance(key, (int, str, float, tuple)) or key is None:
        return key
    raise ValueError(f"a snapshot dict key must be a scalar, not {type(key).__name__}")


class ResumeFile:
    """The snapshot of one cell's training, keyed by the cell's plan key."""

    def __init__(self, path: Path, key: str, every_s: float | None = None, device: str = "cpu",
                 label: dict[str, Any] | None = None) -> None:
        self.path = path
        self.key = key
        self.device = device  # a snapshot from another device would not resume bit-identically: start over
        self.label = label or {}  # what `zoo list` shows of it (the cell, its budget); never read to resume
        self.every_s = snapshot_seconds() if every_s is None else every_s
        self._last = time.perf_counter()

    def due(self) -> bool:
        return time.perf_counter() - self._last >= self.every_s

    def save(self, tree: Any) -> None:
        """Write atomically (temp file, fsync, rename); a failed write leaves the previous snapshot."""
        tensors: dict[str, torch.Tensor] = {}
        skeleton = pack(tree, tensors)
        meta = {"key": self.key, "device": self.device, "format": FORMAT, "tensors_sha256": tensor_digest(tensors),
                "tree": skeleton, **({"label": self.label} if self.label else {})}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.key[:12]}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata={META: json.dumps(meta)})
            publish(tmp)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._last = time.perf_counter()

    def _header(self) -> dict[str, Any]:
        """The snapshot's metadata if it is one of this cell on this device; ValueError otherwise."""
        meta = snapshot_header(self.path)
        if (meta.get("key") != self.key or meta.get("format") != FORMAT
                or meta.get("device") != self.device):
            raise ValueError("not a snapshot of this cell")
        return meta

    def load(self) -> Any | None:
        """The snapshot's tree, or None (and the file removed) if there is none that checks out."""
        if not self.path.is_file():
            return None
        try:
            meta = self._header()
            # fresh, aligned memory: vectorized kernels can round differently on an odd offset
            tensors = {k: v.clone() for k, v in load_file(str(self.path)).items()}
            if meta.get("tensors_sha256") != tensor_digest(tensors):
                raise ValueError("the snapshot's tensors do not match their digest")
            return unpack(meta["tree"], tensors)
        except (SafetensorError, OSError, ValueError, KeyError, TypeError, RuntimeError):
            self.clear()
            return None

    def step(self, written_within_s: float | None = None) -> int | None:
        """The step the snapshot was taken at, from its header alone; None if there is none that fits,
        or, with `written_within_s`, none written that recently (a cell in training rewrites its own)."""
        position = self.position(written_within_s)
        return position[0] if position else None

    def position(self, written_within_s: float | None = None) -> tuple[int, float | None] | None:
        """(step, training seconds so far over every run of the cell) as `step` finds them; the seconds
        are None where the header lacks them. Step 0: a snapshot of the algorithm's preparation
        (meta-training), taken before step 1."""
        if not self.path.is_file():
            return None
        try:
            if written_within_s is not None and time.time() - self.path.stat().st_mtime > written_within_s:
                return None
            return snapshot_loop(self._header())
        except (SafetensorError, OSError, ValueError, KeyError, TypeError):
            return None

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


def snapshot_header(path: Path) -> dict[str, Any]:
    """A snapshot file's metadata, unchecked (the tensors are not read); ValueError or
    SafetensorError where the file is not a snapshot."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = json.loads((f.metadata() or {}).get(META, "null"))
    if not isinstance(meta, dict):
        raise ValueError("not a snapshot")
    return meta


def snapshot_loop(meta: dict[str, Any]) -> tuple[int, float | None] | None:
    """(step, training seconds so far) from a snapshot's metadata; None where it holds none."""
    try:
        tree = dict(meta["tree"]["$d"])
        loop = dict(tree["loop"]["$d"])
    except (KeyError, TypeError, ValueError):
        return None
    step, seconds = loop.get("step"), loop.get("seconds")
    if not isinstance(step, int) or isinstance(step, bool) or step < ("prepare" not in tree):
        return None
    return step, float(seconds) if non_negative(seconds) else None


def non_negative(value: object) -> TypeGuard[int | float]:
    """A number 0 or more as a stored header holds it (not a bool, which is an int to Python)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
