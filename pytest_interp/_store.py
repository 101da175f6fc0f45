"""A content-addressed checkpoint store: one safetensors file per cell (DESIGN.md section 6).

Keys are hex digests computed by the trainer from everything that determines the
weights, so a key never names a path outside the store. Writes go to a temporary
file in the same folder and are renamed into place; a per-key file lock keeps
parallel workers from training the same cell twice; a file whose header, size or
tensor digest does not check out is treated as missing (and removed) so it is rebuilt.
Pickle is never involved.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ._errors import ConfigError
from ._options import ENV_STORE

_KEY = re.compile(r"^[0-9a-f]{16,64}$")
META_KEY = "pytest_interp"


def default_store_dir() -> Path:
    """The user's cache folder, as each platform names it."""
    env = os.environ.get(ENV_STORE)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "pytest-interp"


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(str(t.dtype).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")  # 0-d too
    return h.hexdigest()


def publish(tmp: str) -> None:
    """Flush a finished temporary file and give it the mode a plain new file would get (mkstemp's is
    0600), so a store shared between users or cluster workers can read what each writes."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())


@dataclass
class Checkpoint:
    tensors: dict[str, torch.Tensor]
    meta: dict
    sha256: str  # of the tensors, independent of file layout
    path: Path


class Store:
    """Checkpoints under `root`, plus read-only layers searched after it (prebuilt zoos)."""

    def __init__(self, root: Path, layers: Sequence[Path] = ()) -> None:
        self.root = Path(root)
        self.layers = [Path(p) for p in layers]
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create store folder {self.root}: {exc.strerror}") from None
        if not self.root.is_dir():
            raise ConfigError(f"store {self.root} is not a folder")

    def writable(self) -> bool:
        return os.access(self.root, os.W_OK | os.X_OK)

    def check_writable(self) -> None:
        """Create and remove a file in the root, so a read-only store fails at once, not after training.

        A real write, not os.access: root passes every access check, and a read-only mount is
        only found by trying.
        """
        try:
            fd, tmp = tempfile.mkstemp(prefix=".write-check.", suffix=".tmp", dir=self.root)
        except OSError as exc:
            raise ConfigError(f"store {self.root} is read-only ({exc.strerror or exc}): choose a writable folder "
                              f"with --interp-store or ${ENV_STORE}") from None
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)

    def path(self, key: str, root: Path | None = None) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"invalid store key {key!r}")
        return (root or self.root) / key[:2] / f"{key}.safetensors"

    def keys(self) -> set[str]:
        """Every key with a checkpoint file in some layer (not verified): a stored-only run's snapshot."""
        return {p.stem for root in [self.root, *self.layers] for p in root.glob("??/*.safetensors")
                if _KEY.match(p.stem)}

    def has(self, key: str) -> bool:
        """A checkpoint file for the key exists in some layer (not verified: load() does that)."""
        return any(self.path(key, root).is_file() for root in [self.root, *self.layers])

    def meta(self, key: str) -> dict | None:
        """A stored checkpoint's metadata from its header alone (not verified; None if absent or unreadable)."""
        for root in [self.root, *self.layers]:
            path = self.path(key, root)
            if path.is_file():
                try:
                    return self._header_meta(path)
                except (SafetensorError, OSError, ValueError, RuntimeError):
                    continue
        return None

    @staticmethod
    def _header_meta(path: Path) -> dict:
        """Our metadata from a safetensors header, without reading the tensors."""
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get(META_KEY, "{}"))
        if not isinstance(meta, dict):
            raise ValueError("metadata is not an object")
        return meta

    def load(self, key: str) -> Checkpoint | None:
        for root in [self.root, *self.layers]:
            path = self.path(key, root)
            if not path.is_file():
                continue
            ckpt = self._read(path)
            if ckpt is not None:
                return ckpt
            if root == self.root:
                with contextlib.suppress(OSError):
                    path.unlink()
        return None

    @staticmethod
    def _read(path: Path) -> Checkpoint | None:
        try:
            meta = Store._header_meta(path)
            tensors = load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError):
            return None
        digest = tensor_digest(tensors)
        if meta.get("tensors_sha256") != digest:
            return None
        return Checkpoint(tensors, meta, digest, path)

    def save(self, key: str, tensors: dict[str, torch.Tensor], meta: dict) -> Checkpoint:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        meta = {**meta, "tensors_sha256": tensor_digest(tensors)}
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:12]}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata={META_KEY: json.dumps(meta, sort_keys=True)})
            publish(tmp)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return Checkpoint(tensors, meta, meta["tensors_sha256"], path)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Exclusive per-key lock across processes (no-op where fcntl is missing)."""
        lock_path = self.path(key).with_suffix(".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows: parallel workers may train twice, never corrupt
            yield
            return
        with open(lock_path, "a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
