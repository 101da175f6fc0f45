"""The content-addressed store: atomic writes, corruption detection, safe keys, read-only layers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from pytest_interp._errors import ConfigError
from pytest_interp._store import Store, default_store_dir

KEY = "ab" * 32


def _tensors() -> dict[str, torch.Tensor]:
    return {"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(3)}


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    store = Store(tmp_path)
    saved = store.save(KEY, _tensors(), {"metrics": {"acc": 1.0}})
    loaded = store.load(KEY)
    assert loaded is not None
    assert torch.equal(loaded.tensors["w"], _tensors()["w"])
    assert loaded.meta["metrics"] == {"acc": 1.0}
    assert loaded.sha256 == saved.sha256
    assert not [p for p in tmp_path.rglob("*.tmp")], "no temporary files left behind"


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_checkpoints_and_snapshots_get_the_umask_mode_not_mkstemps_private_one(tmp_path: Path) -> None:
    """A store shared by several users or cluster workers must be readable by all of them."""
    from pytest_interp._resume import ResumeFile

    old = os.umask(0o022)
    try:
        ckpt = Store(tmp_path).save(KEY, _tensors(), {})
        snap = ResumeFile(tmp_path / "x.resume", KEY)
        snap.save({"loop": {"step": 1}})
    finally:
        os.umask(old)
    assert ckpt.path.stat().st_mode & 0o777 == 0o644
    assert snap.path.stat().st_mode & 0o777 == 0o644


def test_missing_key_is_none(tmp_path: Path) -> None:
    assert Store(tmp_path).load(KEY) is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_damaged_file_is_treated_as_missing_and_removed(tmp_path: Path, damage: str) -> None:
    store = Store(tmp_path)
    path = store.save(KEY, _tensors(), {}).path
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[-1] ^= 0xFF  # inside the tensor data: the header still parses
    else:
        data = bytearray(b"not a safetensors file")
    path.write_bytes(bytes(data))
    assert store.load(KEY) is None
    assert not path.exists()


@pytest.mark.parametrize("key", ["../../etc/passwd", "AB" * 32, "", "a" * 8, "ab/cd" * 8])
def test_keys_cannot_name_paths(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        Store(tmp_path).path(key)


def test_read_only_layer_is_searched_after_the_root(tmp_path: Path) -> None:
    prebuilt = Store(tmp_path / "prebuilt")
    prebuilt.save(KEY, _tensors(), {"from": "prebuilt"})
    store = Store(tmp_path / "user", layers=[tmp_path / "prebuilt"])
    loaded = store.load(KEY)
    assert loaded is not None and loaded.meta["from"] == "prebuilt"


def test_store_that_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ConfigError):
        Store(f)


def test_default_store_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "s"))
    assert default_store_dir() == tmp_path / "s"
    monkeypatch.delenv("PYTEST_INTERP_STORE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    if os.name == "posix" and not os.uname().sysname == "Darwin":
        assert default_store_dir() == tmp_path / "cache" / "pytest-interp"


def test_lock_is_reentrant_across_calls(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.lock(KEY):
        pass
    with store.lock(KEY):
        store.save(KEY, _tensors(), {})
    assert store.load(KEY) is not None
