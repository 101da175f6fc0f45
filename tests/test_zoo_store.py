"""`pytest-interp zoo list` / `zoo prune`: what the store holds, and clearing out what no run reads again."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import torch

from pytest_interp._cli import main
from pytest_interp._resume import ResumeFile
from pytest_interp._store import Store
from pytest_interp._store_contents import contents, prune

KEY_A, KEY_B, KEY_C = "a" * 64, "b" * 64, "c" * 64
DAY = 86400.0


def stocked(root: Path) -> Store:
    """A store with one trained and one untrained checkpoint, two snapshots (one a week old), a damaged
    checkpoint, an old temporary file and a lock file."""
    store = Store(root)
    weights = {"w": torch.ones(3)}
    store.save(KEY_A, weights, {"cell": "mlp-1k-adam-sparse-parity-s0",
                                "metrics": {"steps": 400, "seconds": 12.5, "test_accuracy": 0.97, "reached": True}})
    store.save(KEY_B, weights, {"cell": "mlp-1k-es-sparse-parity-s0",
                                "metrics": {"steps": 2000, "seconds": 99.0, "test_accuracy": 0.5, "reached": False}})
    fresh = ResumeFile(store.path(KEY_C).with_suffix(".resume"), KEY_C, every_s=0,
                       label={"cell": "mlp-100k-es-sparse-parity-s0", "steps": 2000})
    fresh.save({"loop": {"step": 1200, "seconds": 60.0}})
    old = ResumeFile(store.path("d" * 64).with_suffix(".resume"), "d" * 64, every_s=0)  # an older version's: no label
    old.save({"loop": {"step": 7, "seconds": 1.0}})
    week_ago = time.time() - 7 * DAY
    os.utime(old.path, (week_ago, week_ago))
    damaged = store.path("e" * 64)
    damaged.parent.mkdir(parents=True, exist_ok=True)
    damaged.write_bytes(b"not a safetensors file")
    tmp = store.path(KEY_A).parent / f".{KEY_A[:12]}.x1.tmp"
    tmp.write_bytes(b"half")
    os.utime(tmp, (week_ago, week_ago))
    store.path(KEY_A).with_suffix(".lock").touch()
    return store


def test_contents_reads_every_kind_of_file_from_headers(tmp_path: Path) -> None:
    stocked(tmp_path)
    entries = contents(tmp_path)
    assert [(e.kind, e.cell) for e in entries] == [
        ("checkpoint", "mlp-1k-adam-sparse-parity-s0"), ("checkpoint", "mlp-1k-es-sparse-parity-s0"),
        ("snapshot", None), ("snapshot", "mlp-100k-es-sparse-parity-s0"), ("damaged", None), ("temporary", None)]
    snapshot = entries[3]
    assert snapshot.info == {"device": "cpu", "step": 1200, "seconds": 60.0, "steps": 2000}
    assert entries[0].info["test_accuracy"] == 0.97 and all(e.size > 0 for e in entries)
    assert contents(tmp_path / "missing") == []


def test_prune_removes_only_old_snapshots_temporary_and_damaged_files(tmp_path: Path) -> None:
    store = stocked(tmp_path)
    would = prune(tmp_path, 3 * DAY, dry_run=True)
    assert sorted(e.kind for e in would) == ["damaged", "snapshot", "temporary"]
    assert len(contents(tmp_path)) == 6  # a dry run removes nothing
    gone = prune(tmp_path, 3 * DAY)
    assert [e.path for e in gone] == [e.path for e in would]
    left = contents(tmp_path)
    assert [(e.kind, e.cell) for e in left] == [
        ("checkpoint", "mlp-1k-adam-sparse-parity-s0"), ("checkpoint", "mlp-1k-es-sparse-parity-s0"),
        ("snapshot", "mlp-100k-es-sparse-parity-s0")]
    assert store.load(KEY_A) is not None and store.path(KEY_A).with_suffix(".lock").is_file()
    # 0 days: every snapshot goes, still no checkpoint that loads
    assert [e.kind for e in prune(tmp_path, 0)] == ["snapshot"]
    assert [e.kind for e in contents(tmp_path)] == ["checkpoint", "checkpoint"]


def test_a_zoo_snapshot_is_labelled_with_its_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the zoo writes names the cell and its budget, so `zoo list` can say which training is half-way."""
    from pytest_interp._grid import parse_models
    from pytest_interp._zoo import Zoo

    monkeypatch.setenv("PYTEST_INTERP_PREBUILT", "")
    zoo = Zoo(Store(tmp_path))
    cell = next(c for c in parse_models("mlp", tmp_path).cells() if c.size == "1k" and c.optimizer == "adam")
    zoo._resume_file(zoo.plan(cell)).save({"loop": {"step": 5, "seconds": 2.0}})
    [entry] = contents(tmp_path)
    assert entry.cell == cell.key and entry.info["steps"] == zoo.plan(cell).budget["steps"]
    assert zoo.snapshot_step(cell) == 5  # the label changes nothing a run reads


def test_cli_lists_and_prunes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stocked(tmp_path)
    assert main(["zoo", "list", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 checkpoints" in out and "2 snapshots of interrupted training" in out and "2 damaged or temporary" in out
    assert "mlp-1k-adam-sparse-parity-s0" in out and "0.970  trained" in out and "0.500  untrained" in out
    assert re.search(r"\n  mlp-100k-es-sparse-parity-s0 +step 1200 of 2000, written \d+ s ago\n", out), out
    assert re.search(rf"\n  {'d' * 64} +step 7, written 7 days ago\n", out), out
    ahead = time.time() + 3 * 3600  # a store copied from a machine whose clock runs ahead
    for e in contents(tmp_path):
        if e.kind == "snapshot" and e.cell == "mlp-100k-es-sparse-parity-s0":
            os.utime(e.path, (ahead, ahead))
    assert main(["zoo", "list", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\n  mlp-100k-es-sparse-parity-s0 +step 1200 of 2000, dated 3.0 h ahead of this machine's clock\n", out), out
    assert main(["zoo", "list", "--store", str(tmp_path), "--match", "adam"]) == 0
    out = capsys.readouterr().out
    assert "1 checkpoints" in out and "es-sparse" not in out
    assert main(["zoo", "prune", "--store", str(tmp_path), "--dry-run", "--older-than", "3"]) == 0
    assert "would remove 3 files" in capsys.readouterr().out and len(contents(tmp_path)) == 6
    assert main(["zoo", "prune", "--store", str(tmp_path)]) == 0  # 30 days: only the damaged file is old enough
    assert "removed 1 files" in capsys.readouterr().out and len(contents(tmp_path)) == 5


@pytest.mark.parametrize("argv, words", [
    (["zoo", "prune", "--older-than", "-1"], "--older-than must be a number of days"),
    (["zoo", "prune", "--older-than", "nan"], "--older-than must be a number of days"),
])
def test_cli_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                               words: str) -> None:
    assert main([*argv, "--store", str(tmp_path)]) == 2
    assert words in capsys.readouterr().err


def test_cli_on_a_file_or_a_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["zoo", "list", "--store", str(tmp_path / "file")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["zoo", "list", "--store", str(tmp_path / "none")]) == 0
    assert "0 checkpoints" in capsys.readouterr().out and not (tmp_path / "none").exists()


def test_cli_list_prints_no_control_characters_from_headers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A header is whoever wrote the file's bytes: a terminal escape in a cell name is shown, not obeyed."""
    Store(tmp_path).save(KEY_A, {"w": torch.ones(1)}, {"cell": "mlp\x1b[2J-s0", "metrics": {"steps": "x"}})
    assert main(["zoo", "list", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "mlp?[2J-s0" in out and "untrained" in out, out


def test_cli_list_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`zoo list | head` reads a few lines and closes the pipe: no traceback for the lines it did not want."""
    import subprocess
    import sys

    store = Store(tmp_path)
    for i in range(1200):  # about 100 kB of listing: more than a pipe holds
        store.save(f"{i:064x}", {"w": torch.ones(1)}, {"cell": f"mlp-1k-adam-sparse-parity-s{i}", "metrics": {}})
    proc = subprocess.Popen([sys.executable, "-m", "pytest_interp._cli", "zoo", "list", "--store", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"pytest-interp: store")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1 and "Traceback" not in err and "BrokenPipe" not in err, err
