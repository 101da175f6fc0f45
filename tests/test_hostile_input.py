"""Hostile and broken input: each a one-line error, the right exit code, nothing half-written in the store.

Zoo files here name checkpoints (a small trained MLP exported as a user's safetensors file), so
no run trains anything: every case is about what the plugin refuses, and how it says so.
"""

from __future__ import annotations

import errno
import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from interp_results import read_results
from pytest_interp._errors import NonFiniteOutput
from pytest_interp._grid import Cell
from pytest_interp._store import Store
from pytest_interp._zoo import Zoo

CELL = Cell("mlp", "1k", "adam", "sparse-parity", 0)
CLAIMS = '''
import pytest_interp as interp

@interp.claim(needs=["hidden"])
def test_probe(model):
    acc = interp.logistic_probe(model.activations("hidden", "last"), model.data.latents["parity"])
    interp.check("probe_accuracy", acc, ">=", 0.9)

@interp.claim()
def test_raises(model):
    raise ValueError("instrument exploded")
'''


@pytest.fixture(scope="module")
def trained(shared_store: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, torch.Tensor]]:
    """A trained 1k MLP's state dict and family config, as a user would export them; and its untrained init."""
    zoo = Zoo(Store(shared_store), budget={"steps": 300})  # the same cell test_plugin_outcomes trains
    subject = zoo.subject(CELL)
    state = {k: v.detach().clone().contiguous() for k, v in subject.module.state_dict().items()}
    init = {k: v.detach().clone().contiguous() for k, v in subject.control().module.state_dict().items()}
    return state, dict(zoo.plan(CELL).family_config), init


def _toml(config: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in config.items()) + "}"


def _checkpoint(name: str = "parity", file: str = "ckpt/parity.safetensors", config: str = "", **extra: str) -> str:
    lines = [f'name = "{name}"', f'file = "{file}"', 'family = "mlp"', f"config = {config}",
             'task = "sparse-parity"', *(f"{k} = {v}" for k, v in extra.items())]
    return "[[checkpoint]]\n" + "\n".join(lines) + "\n"


@pytest.fixture
def lab(pytester: pytest.Pytester, trained: Any, tmp_path: Path) -> "Lab":
    return Lab(pytester, trained, tmp_path / "store")


class Lab:
    """A pytester folder with a claim file, the exported checkpoint, and helpers to run and judge."""

    def __init__(self, pytester: pytest.Pytester, trained: Any, store: Path) -> None:
        self.pytester, self.store = pytester, store
        self.state, self.config, self.init = trained
        pytester.makepyfile(test_claims=CLAIMS)
        (pytester.path / "ckpt").mkdir()
        save_file(self.state, str(pytester.path / "ckpt" / "parity.safetensors"))

    @property
    def path(self) -> Path:
        return self.pytester.path

    def entry(self, **kw: Any) -> str:
        return _checkpoint(config=kw.pop("config", _toml(self.config)), **kw)

    def run(self, zoo: str, *args: str) -> pytest.RunResult:
        self.path.joinpath("zoo.toml").write_text(textwrap.dedent(zoo))
        return self.pytester.runpytest("--interp-models=zoo.toml", f"--interp-store={self.store}", "-p",
                                       "no:cacheprovider", *args)

    def usage_error(self, result: pytest.RunResult, *expected: str) -> str:
        """Exit code 4 and exactly one line on stderr, naming the problem; no partial files in the store."""
        assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
        lines = [line for line in result.stderr.lines if line.strip()]
        assert len(lines) == 1, lines
        assert lines[0].startswith("ERROR: pytest-interp: "), lines[0]
        for text in expected:
            assert text in lines[0], lines[0]
        self.no_partial_files()
        return lines[0]

    def no_partial_files(self) -> None:
        assert not list(self.store.rglob("*.tmp")) if self.store.exists() else True


def test_a_checkpoint_runs_as_a_cell_of_its_own(lab: Lab) -> None:
    out = lab.path / "r.json"
    result = lab.run(lab.entry(optimizer='"adam"', seed="2"), f"--interp-json={out}", "-k", "probe")
    result.assert_outcomes(passed=1)
    (r,) = read_results(out)["results"]
    assert r["cell"] == "ckpt-parity-sparse-parity-s2" and r["family"] == "mlp" and r["optimizer"] == "adam"
    assert r["outcome"] == "holds" and r["params"] == sum(t.numel() for t in lab.state.values())
    assert r["control"]["outcome"] == "breaks", "the control is the family's seeded init, not the checkpoint"
    assert r["training"]["reached"] and len(r["provenance"]["checkpoint_sha256"]) == 64
    result.stdout.fnmatch_lines(["interp: 0 cells trained, 1 loaded*"])
    lab.no_partial_files()


def test_a_checkpoint_below_its_task_target_is_untrained(lab: Lab) -> None:
    save_file(lab.init, str(lab.path / "ckpt" / "init.safetensors"))
    result = lab.run(lab.entry(file="ckpt/init.safetensors"), "-rs", "-k", "probe")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*untrained: test accuracy*< target 0.95*"])


def test_a_claim_on_a_task_no_named_model_learned_is_na(lab: Lab) -> None:
    lab.pytester.makepyfile(test_digits='''
import pytest_interp as interp

@interp.claim(task="digits")
def test_digits(model):
    raise AssertionError("never runs")
''')
    result = lab.run(lab.entry(), "-rs", "test_digits.py")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*n/a: no model in this run learned digits*"])


def test_malformed_toml(lab: Lab) -> None:
    lab.usage_error(lab.run("[grid\nfamilies = ['mlp']\n"), "zoo.toml is not valid TOML")


@pytest.mark.parametrize("zoo, expected", [
    ('[grid]\nfamilies = ["mlpp"]\n', "unknown family 'mlpp' (known: "),
    ('[grid]\nfamilies = ["mlp"]\noptimizers = ["adamm"]\n', "unknown learning algorithm 'adamm'"),
    ('[grid]\nfamilies = ["mlp"]\n[hparams.adamm]\nlr = 0.1\n', "unknown learning algorithm 'adamm'"),
    ("CKPT_FAMILY", "checkpoint 'parity': unknown family 'mlpp'"),
    ("CKPT_TASK", "checkpoint 'parity': unknown task 'parityy'"),
], ids=["grid-family", "grid-optimizer", "hparams-algorithm", "checkpoint-family", "checkpoint-task"])
def test_unknown_family_learning_algorithm_or_task(lab: Lab, zoo: str, expected: str) -> None:
    if zoo == "CKPT_FAMILY":
        zoo = lab.entry().replace('family = "mlp"', 'family = "mlpp"')
    elif zoo == "CKPT_TASK":
        zoo = lab.entry().replace('task = "sparse-parity"', 'task = "parityy"')
    lab.usage_error(lab.run(zoo), expected)


def test_truncated_safetensors(lab: Lab) -> None:
    path = lab.path / "ckpt" / "parity.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    lab.usage_error(lab.run(lab.entry()), "ckpt/parity.safetensors is truncated")
    path.write_bytes(b"\x10\x00")
    lab.usage_error(lab.run(lab.entry()), "ckpt/parity.safetensors is not a safetensors file, or it is truncated")


@pytest.mark.parametrize("damage, expected", [
    ("width", "has shape"),
    ("name", "tensor layers.0.linear.weight is missing from the file"),
    ("dtype", "is F64 in the file, F32 in the model"),
    ("extra", "the file has tensor stray, which the model lacks"),
    ("config", "does not build a mlp for task sparse-parity: KeyError"),
])
def test_checkpoint_that_does_not_fit_its_family_config(lab: Lab, damage: str, expected: str) -> None:
    state, config = dict(lab.state), dict(lab.config)
    if damage == "width":
        config["width"] += 1
    elif damage == "name":
        state["layers.0.lin.weight"] = state.pop("layers.0.linear.weight")
    elif damage == "dtype":
        state = {k: v.double() for k, v in state.items()}
    elif damage == "extra":
        state["stray"] = torch.zeros(3)
    else:
        config.pop("depth")
    save_file(state, str(lab.path / "ckpt" / "parity.safetensors"))
    line = lab.usage_error(lab.run(lab.entry(config=_toml(config))), "checkpoint 'parity'", expected)
    assert "does not fit" in line or damage == "config"


def test_checkpoint_path_leaving_its_folder(lab: Lab, tmp_path: Path) -> None:
    outside = tmp_path / "outside.safetensors"
    save_file(lab.state, str(outside))
    rel = os.path.relpath(outside, lab.path)
    lab.usage_error(lab.run(lab.entry(file=rel)), "leaves", "through '..'")
    (lab.path / "ckpt" / "link.safetensors").symlink_to(outside)
    lab.usage_error(lab.run(lab.entry(file="ckpt/link.safetensors")), "leaves", "through a symlink")
    lab.usage_error(lab.run(lab.entry(file=str(outside))), "leaves", "absolute path")


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".bin", ".pkl", ".ckpt"])
def test_pickle_checkpoints_are_refused_with_how_to_convert(lab: Lab, suffix: str) -> None:
    (lab.path / "ckpt" / f"parity{suffix}").write_bytes(b"never read")
    line = lab.usage_error(lab.run(lab.entry(file=f"ckpt/parity{suffix}")),
                           f"refusing to load pickle checkpoint ckpt/parity{suffix}")
    assert f"torch.load('ckpt/parity{suffix}', weights_only=True)" in line
    assert "ckpt/parity.safetensors" in line


def test_empty_grid(lab: Lab) -> None:
    lab.usage_error(lab.run('[grid]\nfamilies = []\n'), "the grid is empty: [grid] families lists nothing")
    lab.usage_error(lab.run('[budget]\nsteps = 10\n'), "missing [grid] table")
    lab.usage_error(lab.run(lab.entry(), "--interp-sizes="), "empty list of sizes")
    result = lab.pytester.runpytest("--interp-models=", f"--interp-store={lab.store}")
    lab.usage_error(result, "empty list of families")


def test_read_only_store(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    store = lab.store
    store.mkdir()
    store.chmod(0o555)
    if os.geteuid() == 0:
        # Root ignores permission bits, so stand in for the kernel: open(2) refuses to create a file
        # in the store, as it does for any other user of a 0o555 folder. The plugin's own write
        # attempt (tempfile.mkstemp -> os.open with O_CREAT) runs unchanged and meets the refusal.
        real_open = os.open

        def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & os.O_CREAT and Path(path).parent == store:
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    try:
        lab.usage_error(lab.run(lab.entry()), f"store {store} is read-only (Permission denied)")
        assert list(store.iterdir()) == []
    finally:
        store.chmod(0o755)


def test_a_claim_that_raises_is_an_error(lab: Lab) -> None:
    out = lab.path / "r.json"
    result = lab.run(lab.entry(), f"--interp-json={out}", "-k", "raises")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=1)
    (r,) = read_results(out)["results"]
    assert r["outcome"] == "error" and r["reason"] == "ValueError: instrument exploded"
    lab.no_partial_files()


def test_a_model_that_outputs_nan_is_an_error(lab: Lab) -> None:
    state = {k: torch.full_like(v, float("nan")) if k.startswith("head") else v for k, v in lab.state.items()}
    save_file(state, str(lab.path / "ckpt" / "nan.safetensors"))
    out = lab.path / "r.json"
    result = lab.run(lab.entry(name="nan", file="ckpt/nan.safetensors"), f"--interp-json={out}", "-k", "probe")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (r,) = read_results(out)["results"]
    assert r["outcome"] == "error"
    assert r["reason"].startswith("NonFiniteOutput: ckpt-nan-sparse-parity-s0: checkpoint 'nan' outputs NaN or inf")
    lab.no_partial_files()


def test_nan_outputs_on_a_claims_own_inputs_raise() -> None:
    """Subject.run checks every forward pass: NaN never turns into a hold or a break."""
    from pytest_interp._subject import Subject
    from pytest_interp._tasks import make_task

    class Broken(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = torch.nn.Linear(10, 2)  # sparse-parity: 10 bits in, 2 classes out

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.head(x.float())
            return torch.where(x[:, :1] > 0, out, torch.full_like(out, float("nan")))

    task = make_task("sparse-parity")
    subject = Subject(Broken(), CELL, task, params=42, metrics={}, checkpoint_sha256=None,
                      site_rules={})
    with pytest.raises(NonFiniteOutput, match=r"mlp-1k-adam-sparse-parity-s0 outputs NaN or inf on \d+ of"):
        subject.run()


def test_hf_model_without_the_extra_is_a_usage_error(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "transformers", None)  # as if not installed
    folder = lab.path / "bert"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    save_file(lab.state, str(folder / "model.safetensors"))
    zoo = '[[hf]]\nname = "bert"\npath = "bert"\ntask = "token-identity"\n'
    lab.usage_error(lab.run(zoo), "transformers is missing: install the Hugging Face extra: "
                                  "pip install 'pytest-interp[hf]'")


def test_hf_folder_with_only_pickle_weights_is_refused(lab: Lab) -> None:
    folder = lab.path / "bert"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "pytorch_model.bin").write_bytes(b"never read")
    zoo = '[[hf]]\nname = "bert"\npath = "bert"\ntask = "token-identity"\n'
    lab.usage_error(lab.run(zoo), "refusing to load pickle checkpoint bert/pytorch_model.bin")


OTHER_SCHEMAS = {
    "results-v2": {"schema_version": 2, "results": []},
    "baseline-v7": {"format": "pytest-interp-baseline", "schema_version": 7, "entries": []},
    "not-ours": {"name": "some other tool's report", "tests": []},
}


@pytest.mark.parametrize("kind", sorted(OTHER_SCHEMAS))
def test_a_results_file_of_another_schema_handed_to_baseline(lab: Lab, kind: str) -> None:
    (lab.path / "other.json").write_text(json.dumps(OTHER_SCHEMAS[kind]))
    lab.usage_error(lab.run(lab.entry(), "--interp-baseline=other.json"), "other.json")
    assert json.loads((lab.path / "other.json").read_text()) == OTHER_SCHEMAS[kind], "left as it was"


@pytest.mark.parametrize("kind", sorted(OTHER_SCHEMAS))
def test_a_results_file_of_another_schema_handed_to_merge(lab: Lab, kind: str, capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    from pytest_interp._cli import main

    good = lab.path / "good.json"
    lab.run(lab.entry(), f"--interp-json={good}", "-k", "probe")
    (lab.path / "other.json").write_text(json.dumps(OTHER_SCHEMAS[kind]))
    capsys.readouterr()
    out = lab.path / "merged.json"
    assert main(["merge", str(good), str(lab.path / "other.json"), "-o", str(out)]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pytest-interp: error: ") and "other.json" in lines[0], lines
    assert not out.exists() and not list(lab.path.glob("*.tmp")), "nothing half-written"
