"""Ctrl-C while a cell trains, run pytest again: the cell goes on from where it stopped."""

from __future__ import annotations

from pathlib import Path
import pytest

CLAIM = '''
import pytest_interp as interp


@interp.claim(needs=["hidden"])
def test_parity_decodes(model):
    acc = interp.logistic_probe(model.activations("hidden", "last"), model.data.latents["parity"])
    interp.check("probe_accuracy", acc, ">=", 0.0)
'''

ZOO = """
[grid]
families = ["mlp"]
sizes = ["1k"]
optimizers = ["adam"]

[budget]
steps = 100
eval_every = 50
"""


#: In the pytest process under test: snapshot after every step, and Ctrl-C once step STOP_AT is saved.
CONFTEST = '''
import os

from pytest_interp import _resume

if os.environ.get("STOP_AT"):
    _resume.SNAPSHOT_EVERY_S = 0.0
    _save = _resume.ResumeFile.save

    def _save_then_ctrl_c(self, tree):
        _save(self, tree)
        if tree["loop"]["step"] >= int(os.environ["STOP_AT"]):
            raise KeyboardInterrupt

    _resume.ResumeFile.save = _save_then_ctrl_c
'''


def test_ctrl_c_mid_training_and_the_rerun_goes_on_from_the_snapshot(
        pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(store))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_claims=CLAIM)
    pytester.path.joinpath("zoo.toml").write_text(ZOO)
    monkeypatch.setenv("STOP_AT", "40")
    first = pytester.runpytest_subprocess("--interp-models=zoo.toml")
    assert first.ret == pytest.ExitCode.INTERRUPTED
    assert len(list(store.glob("??/*.resume"))) == 1 and not list(store.glob("??/*.safetensors"))

    monkeypatch.delenv("STOP_AT")
    plan = pytester.runpytest_subprocess("--interp-models=zoo.toml", "--collect-only", "-q")
    plan.stdout.fnmatch_lines(["*1 to train*1 go on from where an interrupted run stopped*"])
    second = pytester.runpytest_subprocess("--interp-models=zoo.toml", "-v")
    second.stdout.fnmatch_lines(["*going on from step 40/100, where an interrupted run left its snapshot*",
                                 "*step 50/100*", "*step 100/100*"])
    second.assert_outcomes(passed=1)
    assert not list(store.glob("??/*.resume")) and len(list(store.glob("??/*.safetensors"))) == 1


def test_a_bad_snapshot_interval_fails_the_run_at_once(
        pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("PYTEST_INTERP_SNAPSHOT_SECONDS", "soon")
    pytester.makepyfile(test_claims=CLAIM)
    pytester.path.joinpath("zoo.toml").write_text(ZOO)
    result = pytester.runpytest("--interp-models=zoo.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*PYTEST_INTERP_SNAPSHOT_SECONDS must be a number of seconds*'soon'*"])
    assert not list((tmp_path / "store").glob("??/*"))  # nothing trained


@pytest.mark.parametrize("command", [["zoo", "build", "tiny"], ["findings", "--build"]])
def test_the_build_commands_refuse_a_bad_snapshot_interval_before_training(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_interp._cli import main

    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("PYTEST_INTERP_SNAPSHOT_SECONDS", "-5")
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # findings reads claims/
    assert main(command) == 2
    assert "PYTEST_INTERP_SNAPSHOT_SECONDS must be a number of seconds" in capsys.readouterr().err
    assert not list((tmp_path / "store").glob("??/*"))
