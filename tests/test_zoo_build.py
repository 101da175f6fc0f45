"""Zoo builds: serial, local processes and Ray give identical checkpoints; the prebuilt zoo is current."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_interp._grid import Cell, GridSpec
from pytest_interp._zoo_build import build, cells_for

ROOT = Path(__file__).resolve().parents[1]
GRID = GridSpec(("mlp", "transformer"), ("1k",), ("adam", "sgd"), seeds=1)
BUDGET = {"steps": 60, "eval_every": 20}


def _hashes(store: Path, executor: str) -> dict[str, str]:
    built = build(cells_for(GRID, ["sparse-parity"]), store, executor=executor, workers=2, budget=BUDGET)
    assert all(b.trained for b in built)
    return {b.cell: b.sha256 for b in built}


def test_serial_process_and_ray_builds_are_identical(tmp_path: Path) -> None:
    serial = _hashes(tmp_path / "serial", "serial")
    assert len(serial) == 4 and all(serial.values())
    assert _hashes(tmp_path / "process", "process") == serial
    ray = pytest.importorskip("ray")
    del ray
    assert _hashes(tmp_path / "ray", "ray") == serial


def test_a_second_build_trains_nothing(tmp_path: Path) -> None:
    cells = cells_for(GRID, ["sparse-parity"])[:2]
    build(cells, tmp_path, executor="serial", budget=BUDGET)
    again = build(cells, tmp_path, executor="serial", budget=BUDGET)
    assert not any(b.trained for b in again)


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_cells_of_several_grids_build_together_each_with_its_settings(tmp_path: Path, executor: str) -> None:
    cell = Cell("mlp", "1k", "adam", "sparse-parity", 0)
    other = Cell("mlp", "1k", "sgd", "sparse-parity", 0)
    settings = [({}, {"steps": 40}), ({}, {"steps": 20}), ({"sgd": {"lr": 0.05}}, {"steps": 20})]
    built = build([cell, cell, other], tmp_path, executor=executor, workers=2, settings=settings)
    # the same cell under two budgets is two checkpoints; results come back in the order given
    assert [b.cell for b in built] == [cell.key, cell.key, other.key]
    assert len({b.store_key for b in built}) == 3 and [b.metrics["steps"] for b in built] <= [40, 20, 20]
    with pytest.raises(ValueError, match="one"):
        build([cell], tmp_path, executor="serial", settings=[])


def test_cli_zoo_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_interp._cli import main

    zoo = tmp_path / "zoo.toml"
    zoo.write_text('[grid]\nfamilies = ["mlp"]\nsizes = ["1k"]\noptimizers = ["adam"]\n[budget]\nsteps = 40\n')
    code = main(["zoo", "build", str(zoo), "--store", str(tmp_path / "store"), "--executor", "serial",
                 "--manifest", str(tmp_path / "manifest.json")])
    assert code == 0
    out = capsys.readouterr().out
    assert "[1/1] mlp-1k-adam-sparse-parity-s0: trained" in out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [c["cell"] for c in manifest["cells"]] == ["mlp-1k-adam-sparse-parity-s0"]
    assert main(["zoo", "build", "nope", "--executor", "serial"]) == 2


MANIFEST = ROOT / "fixtures" / "zoo" / "manifest.json"


@pytest.mark.skipif(not MANIFEST.exists(), reason="no prebuilt zoo in this checkout")
def test_prebuilt_zoo_matches_the_training_code() -> None:
    """Fails when a change to training code, defaults or families changes a cell's key: rebuild the zoo."""
    from pytest_interp._grid import PRESETS
    from pytest_interp._store import Store
    from pytest_interp._train import make_plan

    from pytest_interp._cell_plan import claim_cells

    manifest = json.loads(MANIFEST.read_text())
    store = Store(MANIFEST.parent)
    entries = {e["cell"]: e for e in manifest["cells"]}
    # every cell the claims ask for, the other seeds they declare (CKA's seed 1) included
    expected = {c.key for c in claim_cells(PRESETS["default"], sorted((ROOT / "claims").glob("test_*.py")))}
    assert any(key.endswith("-digits-s1") for key in expected)
    assert expected <= set(entries) | _not_applicable(expected), \
        f"the claims need cells the prebuilt zoo lacks: {sorted(expected - set(entries) - _not_applicable(expected))[:5]}"
    for key, e in entries.items():
        cell = Cell(e["family"], e["size"], e["optimizer"], e["task"], e["seed"],
                    tuple(tuple(kv) for kv in e["task_options"]))
        plan = make_plan(cell)
        assert plan.key == e["store_key"], f"{key}: the training code changed; rebuild fixtures/zoo"
        ckpt = store.load(plan.key)
        assert ckpt is not None and ckpt.sha256 == e["sha256"], f"{key}: file missing or changed"
    size = sum(p.stat().st_size for p in MANIFEST.parent.rglob("*") if p.is_file())
    assert size <= 20 * 2**20


def _not_applicable(keys: set[str]) -> set[str]:
    from pytest_interp._families import FAMILIES
    from pytest_interp._tasks import make_task

    out = set()
    for key in keys:
        family = next(f for f in FAMILIES.names() if key.startswith(f + "-"))
        task = next(t for t in ("sparse-parity", "modular-addition", "repeated-tokens", "superposition", "digits",
                                "char-text") if f"-{t}" in key)
        if FAMILIES.get(family).unsupported(make_task(task).spec):
            out.add(key)
    return out


def test_claim_tasks_are_read_from_decorators_without_running_the_files(tmp_path: Path) -> None:
    from pytest_interp._claim_tasks import claim_tasks
    from pytest_interp._errors import ConfigError

    a = tmp_path / "test_a.py"
    a.write_text("import pytest, pytest_interp as interp\nraise SystemExit\n"
                 "@interp.claim(task='superposition', needs=['hidden'], sparsity=0.0)\ndef test_a(model): pass\n"
                 "@interp.claim()\ndef test_b(model): pass\n"
                 "@pytest.mark.interp(task='digits')\ndef test_c(model): pass\n"
                 "@interp.claim(task='superposition', sparsity=0.0)\ndef test_d(model): pass\n"
                 "@interp.claim(task='digits', siblings=[1])\ndef test_e(model): pass\n")  # not a task option
    assert claim_tasks([a]) == [("superposition", (("sparsity", 0.0),)), ("sparse-parity", ()), ("digits", ())]
    from pytest_interp._claim_tasks import claim_task_families

    b = tmp_path / "test_b.py"
    b.write_text("import pytest_interp as interp\n"
                 "@interp.claim(task='superposition', families=['tied-ae'], sparsity=0.0)\ndef test_a(model): pass\n"
                 "@interp.claim(task='digits', families='cnn')\ndef test_b(model): pass\n"
                 "@interp.claim(task='digits', families=['mlp'])\ndef test_c(model): pass\n")
    assert claim_task_families([a, b]) == {("superposition", (("sparsity", 0.0),)): None, ("sparse-parity", ()): None,
                                           ("digits", ()): None}
    assert claim_task_families([b]) == {("superposition", (("sparsity", 0.0),)): frozenset({"tied-ae"}),
                                        ("digits", ()): frozenset({"cnn", "mlp"})}
    from pytest_interp._claim_tasks import claim_task_siblings

    assert claim_task_siblings([a, b]) == {("superposition", (("sparsity", 0.0),)): frozenset(),
                                           ("sparse-parity", ()): frozenset(), ("digits", ()): frozenset({1})}
    bad = tmp_path / "test_bad.py"
    bad.write_text("import pytest_interp as interp\nN = 3\n@interp.claim(task='x', n=N)\ndef test_x(model): pass\n")
    with pytest.raises(ConfigError, match="test_bad.py:3"):
        claim_tasks([bad])


def test_zoo_build_claims_option_builds_the_claims_tasks(tmp_path: Path) -> None:
    from pytest_interp._cli import main

    claims = tmp_path / "claims"
    claims.mkdir()
    (claims / "test_a.py").write_text("import pytest_interp as interp\n"
                                      "@interp.claim(task='superposition', n=6)\ndef test_a(model): pass\n")

    def build(seeds: int, manifest: Path) -> list[dict]:
        rc = main(["zoo", "build", "mlp", "--sizes", "1k", "--optimizers", "adam", "--seeds", str(seeds),
                   "--claims", str(claims), "--store", str(tmp_path / "store"), "--executor", "serial",
                   "--manifest", str(manifest)])
        assert rc == 0
        return json.loads(manifest.read_text())["cells"]

    manifest = tmp_path / "m.json"
    assert [(c["task"], c["task_options"]) for c in build(1, manifest)] == [("superposition", [["n", 6]])]
    assert [c["seed"] for c in build(2, manifest)] == [0, 1], "a second build adds to the manifest"
    note = json.loads(manifest.read_text())["note"]
    assert note.count("--claims") == 2 and "--seeds 2" in note
    assert main(["zoo", "build", "mlp", "--claims", str(tmp_path / "nowhere")]) == 2
    # a claim comparing seeds: the other seed it declares is built too, though the grid has one seed
    (claims / "test_b.py").write_text("import pytest_interp as interp\n"
                                      "@interp.claim(task='superposition', n=5, siblings=[1])\ndef test_b(model): pass\n")
    assert sorted((c["task_options"], c["seed"]) for c in build(1, tmp_path / "other.json")) == \
        [([["n", 5]], 0), ([["n", 5]], 1), ([["n", 6]], 0)]


@pytest.mark.parametrize("executor", ["serial", "process", "ray"])
def test_a_long_build_says_which_cells_are_training_and_how_far(
        executor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if executor == "ray":
        pytest.importorskip("ray", reason="the ray executor needs the [ray] extra")
    monkeypatch.setenv("PYTEST_INTERP_SNAPSHOT_SECONDS", "0")  # the workers snapshot after every step
    beats: list[list[str]] = []
    cell = Cell("mlp", "1k", "es", "sparse-parity", 0)
    built = build([cell], tmp_path, executor=executor, workers=2, hparams={"es": {"population": 8}},
                  budget={"steps": 2000, "eval_every": 1000}, heartbeat=beats.append, heartbeat_s=0.2)
    assert built[0].trained
    steps = [int(s.split(" at step ")[1].split("/")[0]) for beat in beats for s in beat if " at step " in s]
    assert steps and all(0 < n < 2000 for n in steps) and steps == sorted(steps)
    assert all(re.fullmatch(re.escape(cell.key) + r" at step \d+/2000, at most about \d+(\.\d)? (s|min|h) more", s)
               for beat in beats for s in beat)
    assert not list(tmp_path.glob("??/*.resume"))


def test_the_heartbeat_lists_a_cell_still_meta_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_INTERP_SNAPSHOT_SECONDS", "0")  # a snapshot after every meta-iteration
    beats: list[list[str]] = []
    cell = Cell("mlp", "1k", "reptile", "sparse-parity", 0)
    built = build([cell], tmp_path, executor="serial", hparams={"reptile": {"meta_iterations": 400, "inner_steps": 3}},
                  budget={"steps": 20, "eval_every": 10}, heartbeat=beats.append, heartbeat_s=0.2)
    assert built[0].trained
    preparing = [s for beat in beats for s in beat if "preparing" in s]
    assert preparing, beats
    assert all(re.fullmatch(re.escape(cell.key) + r" preparing \(meta-training\), \d+ s so far", s) for s in preparing)
