"""Units of checkpoints.py: size labels, the safetensors header check, path containment, named cells."""

from __future__ import annotations

import json
import struct
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from pytest_interp._safe_files import TensorInfo, inside, read_header, size_label
from pytest_interp._errors import ConfigError
from pytest_interp._grid import Cell, load_zoo, parse_size


@pytest.mark.parametrize("n, label", [(57, "57"), (999, "999"), (1000, "1k"), (970, "970"), (9876, "9.88k"),
                                      (9999, "10k"), (123_456, "123k"), (999_999, "1m"), (22_713_216, "22.7m")])
def test_size_labels_are_actual_counts_that_parse(n: int, label: str) -> None:
    assert size_label(n) == label
    if n >= 100:
        assert abs(parse_size(label) - n) <= 0.005 * n


def test_decimal_sizes_parse_exactly() -> None:
    assert parse_size("9.9k") == 9900 and parse_size("22.7m") == 22_700_000


def _raw(path: Path, header: dict, data: bytes) -> Path:
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + data)
    return path


def test_header_check(tmp_path: Path) -> None:
    good = tmp_path / "good.safetensors"
    save_file({"w": torch.ones(2, 3), "b": torch.zeros(3, dtype=torch.int64)}, str(good))
    assert read_header(good, "good") == {"w": TensorInfo("F32", (2, 3)), "b": TensorInfo("I64", (3,))}
    cases = {
        "gap": ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "do not cover"),
        "trailing": ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 9, "do not cover"),
        "short": ({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8, "is truncated"),
        "span": ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4, "spans 4 bytes"),
        "dtype": ({"a": {"dtype": "X9", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, "malformed"),
        "shape": ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, "malformed"),
    }
    for name, (header, data, message) in cases.items():
        with pytest.raises(ConfigError, match=message):
            read_header(_raw(tmp_path / f"{name}.safetensors", header, data), name)
    (tmp_path / "json.safetensors").write_bytes(struct.pack("<Q", 4) + b"{{{{")
    with pytest.raises(ConfigError, match="header is not valid JSON"):
        read_header(tmp_path / "json.safetensors", "json")
    (tmp_path / "huge.safetensors").write_bytes(struct.pack("<Q", 2**40) + b"{}")
    with pytest.raises(ConfigError, match="is not a safetensors file, or it is truncated"):
        read_header(tmp_path / "huge.safetensors", "huge")


def test_paths_stay_inside(tmp_path: Path) -> None:
    root = tmp_path / "zoo"
    (root / "ckpt").mkdir(parents=True)
    assert inside(root, "ckpt/a.safetensors", "file") == (root / "ckpt" / "a.safetensors").resolve()
    assert inside(root, "ckpt/../b.safetensors", "file") == (root / "b.safetensors").resolve()
    for text, how in (("../x", "through '..'"), ("/etc/passwd", "absolute path")):
        with pytest.raises(ConfigError, match=how):
            inside(root, text, "file")
    (root / "up").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(ConfigError, match="through a symlink"):
        inside(root, "up/x.safetensors", "file")


def test_named_cells_have_readable_ids_and_keys() -> None:
    c = Cell("mlp", "970", "external", "sparse-parity", 2, source="ckpt-rc2")
    assert c.id == "ckpt-rc2-s2" and c.key == "ckpt-rc2-sparse-parity-s2"
    assert Cell("mlp", "1k", "adam", "sparse-parity", 0).key == "mlp-1k-adam-sparse-parity-s0", "unchanged"


def _zoo(tmp_path: Path, body: str) -> Path:
    (tmp_path / "ckpt").mkdir(exist_ok=True)
    torch.manual_seed(0)
    from pytest_interp._families import FAMILIES
    from pytest_interp._tasks import make_task

    module = FAMILIES.get("mlp").build({"width": 16, "depth": 2, "embed_dim": 4}, make_task("sparse-parity").spec)
    save_file(module.state_dict(), str(tmp_path / "ckpt" / "a.safetensors"))
    path = tmp_path / "zoo.toml"
    path.write_text(textwrap.dedent(body))
    return path


ENTRY = '''
[[checkpoint]]
name = "{name}"
file = "ckpt/a.safetensors"
family = "mlp"
config = {{width = 16, depth = 2, embed_dim = 4}}
task = "sparse-parity"
{extra}
'''


def test_two_models_may_not_share_a_name_or_a_place_in_the_matrix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="two models are named 'a'"):
        load_zoo(_zoo(tmp_path, ENTRY.format(name="a", extra="") + ENTRY.format(name="a", extra="seed = 1")))
    with pytest.raises(ConfigError, match="'a' and 'b' share family, size, optimizer, task and seed"):
        load_zoo(_zoo(tmp_path, ENTRY.format(name="a", extra="") + ENTRY.format(name="b", extra="")))
    grid = load_zoo(_zoo(tmp_path, ENTRY.format(name="a", extra="") + ENTRY.format(name="b", extra="seed = 1")))
    assert [c.id for c in grid.cells("sparse-parity")] == ["ckpt-a-s0", "ckpt-b-s1"]
    assert grid.families == (), "a file that only names models generates nothing"


def test_a_named_model_may_not_take_a_generated_cells_place(tmp_path: Path) -> None:
    grid = load_zoo(_zoo(tmp_path, '[grid]\nfamilies = ["mlp"]\nsizes = ["970"]\noptimizers = ["adam"]\n'
                         + ENTRY.format(name="a", extra='optimizer = "adam"')))
    with pytest.raises(ConfigError, match="has the family, size, optimizer and seed of the generated cell"):
        grid.cells("sparse-parity")


@pytest.mark.parametrize("extra, message", [
    ("task_options = {relevant = {a = 1}}", "task_options values must be"),
    ("task_options = {colour = 1}", "has no option"),
    ("seed = -1", "seed must be a non-negative integer"),
    ('optimizer = "a b"', "optimizer must be a label"),
    ("stray = 1", "unknown key"),
])
def test_checkpoint_table_validation(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_zoo(_zoo(tmp_path, ENTRY.format(name="a", extra=extra)))
