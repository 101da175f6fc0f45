"""The plugin's options: validation (exit code 4, one line), ini keys, presets, zoo files, ids."""

from __future__ import annotations

from pathlib import Path

import pytest

CLAIM = """
import pytest_interp as interp

@interp.claim(task="sparse-parity", needs=["hidden"])
def test_claim(model):
    interp.check("depth", model.depth("hidden"), ">=", 1)
"""

pytestmark = pytest.mark.usefixtures("store_env")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--interp-models=foo"], "unknown family 'foo'"),
        (["--interp-models=mlp,"], "malformed list of families"),
        (["--interp-optimizers=sgd,nope"], "unknown learning algorithm 'nope'"),
        (["--interp-optimizers=sgd,,adam"], "malformed list of optimizers"),
        (["--interp-sizes=abc"], "invalid size 'abc'"),
        (["--interp-sizes=10x"], "invalid size '10x'"),
        (["--interp-sizes=1"], "out of range"),
        (["--interp-sizes=1k,1k"], "sizes listed twice"),
        (["--interp-seeds=0"], "invalid seed count '0'"),
        (["--interp-seeds=-2"], "invalid seed count '-2'"),
        (["--interp-seeds=two"], "invalid seed count 'two'"),
        (["--interp-models=missing.toml"], "zoo file not found"),
        (["--interp-device=tpu"], "invalid device 'tpu'"),
        (["--interp-tasks=sparse-parity,nope"], "unknown task 'nope'"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    pytester.makepyfile(test_claims=CLAIM)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = [line for line in result.errlines if line.strip()]
    assert len(err) == 1, err
    assert message in err[0]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_malformed_zoo_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIM)
    pytester.path.joinpath("zoo.toml").write_text("[grid\nfamilies = [")
    result = pytester.runpytest("--interp-models=zoo.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*zoo file*is not valid TOML*"])


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[grid]\nfamilies = ['mlp']\nwidth = 3\n", "unknown key(s) in [grid]: width"),
        ("[grid]\nfamilies = 'mlp'\n", "must be a list of strings"),
        ("[grid]\nfamilies = ['mlp']\n[hparams.sgd]\nlrr = 1\n", "sgd has no hyperparameter(s) lrr"),
        ("[grid]\nfamilies = ['mlp']\n[hparams.zzz]\nlr = 1\n", "unknown learning algorithm 'zzz'"),
        ("[other]\n", "unknown table(s) other"),
    ],
)
def test_bad_zoo_content_is_a_usage_error(pytester: pytest.Pytester, toml: str, message: str) -> None:
    pytester.makepyfile(test_claims=CLAIM)
    pytester.path.joinpath("zoo.toml").write_text(toml)
    result = pytester.runpytest("--interp-models=zoo.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_ids_are_readable_and_stable(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIM)
    result = pytester.runpytest(
        "--collect-only", "-q", "--interp-models=mlp,transformer", "--interp-sizes=1k,10k",
        "--interp-optimizers=sgd,adam", "--interp-seeds=2",
    )
    assert result.ret == 0
    ids = sorted(line.split("[")[1].rstrip("]") for line in result.outlines if "::test_claim[" in line)
    assert len(ids) == 2 * 2 * 2 * 2
    assert "transformer-10k-adam-s1" in ids and "mlp-1k-sgd-s0" in ids


def test_ini_keys_set_the_grid_and_the_flag_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIM)
    pytester.makeini(
        "[pytest]\ninterp_models = transformer\ninterp_sizes = 2k\ninterp_optimizers = sgd\ninterp_seeds = 3\n"
    )
    result = pytester.runpytest("--collect-only", "-q")
    ids = [line for line in result.outlines if "::test_claim[" in line]
    assert len(ids) == 3 and all("transformer-2k-sgd-s" in i for i in ids)
    result = pytester.runpytest("--collect-only", "-q", "--interp-models=mlp", "--interp-seeds=1")
    ids = [line for line in result.outlines if "::test_claim[" in line]
    assert ids == ["test_claims.py::test_claim[mlp-2k-sgd-s0]"]


def test_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIM)
    pytester.makeini("[pytest]\ninterp_seeds = 0\n")
    result = pytester.runpytest("--collect-only", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_pyproject_ini_options_and_zoo_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIM)
    pytester.path.joinpath("zoo.toml").write_text(
        "[grid]\nfamilies = ['mlp']\nsizes = ['1k', '10k']\noptimizers = ['adam']\nseeds = 2\n"
    )
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\ninterp_models = 'zoo.toml'\n")
    result = pytester.runpytest("--collect-only", "-q")
    ids = sorted(line for line in result.outlines if "::test_claim[" in line)
    assert [i.split("[")[1] for i in ids] == ["mlp-10k-adam-s0]", "mlp-10k-adam-s1]", "mlp-1k-adam-s0]", "mlp-1k-adam-s1]"]


def test_no_options_runs_the_default_preset(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIM)
    result = pytester.runpytest("--collect-only", "-q")
    ids = {line.split("[")[1].rstrip("]") for line in result.outlines if "::test_claim[" in line}
    from pytest_interp._grid import PRESETS

    assert ids == {c.id for c in PRESETS["default"].cells()}


def test_store_option_and_environment_variable(pytester: pytest.Pytester, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_claims=CLAIM)
    env_store, flag_store = tmp_path / "env", tmp_path / "flag"
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(env_store))
    args = ["--interp-models=mlp", "--interp-sizes=1k", "--interp-optimizers=adam", "--interp-device=cpu"]
    pytester.runpytest(*args).assert_outcomes(passed=1)
    assert len(list(env_store.rglob("*.safetensors"))) == 1
    pytester.runpytest(*args, f"--interp-store={flag_store}").assert_outcomes(passed=1)
    assert len(list(flag_store.rglob("*.safetensors"))) == 1


def test_plugin_registered_by_entry_point() -> None:
    from importlib.metadata import entry_points

    eps = [ep for ep in entry_points(group="pytest11") if ep.name == "interp"]
    assert eps and eps[0].value == "pytest_interp._plugin"


def test_help_lists_every_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    for flag in ("--interp-models", "--interp-sizes", "--interp-optimizers", "--interp-seeds",
                 "--interp-tasks", "--interp-json", "--interp-store", "--interp-device"):
        result.stdout.fnmatch_lines([f"*{flag}*"])


def test_tasks_option_selects_claims_by_task(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=CLAIM + '''

@interp.claim(task="digits")
def test_on_digits(model):
    pass
''')
    result = pytester.runpytest("--collect-only", "-q", "--interp-models=tiny", "--interp-tasks=digits")
    ids = [line for line in result.outlines if "::test_" in line]
    assert ids == ["test_claims.py::test_on_digits[mlp-1k-adam-s0]"]
    result.stdout.fnmatch_lines(["*1 deselected*"])
    bad = pytester.runpytest("--collect-only", "--interp-tasks=nope")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


def test_the_plan_line_counts_cells_to_train_before_anything_trains(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_claims=CLAIM + '''

@interp.claim(task="sparse-parity", needs=["hidden"], families=["transformer"])
def test_transformer_only(model):
    pass
''')
    args = ["--interp-models=mlp", "--interp-sizes=1k", "--interp-optimizers=adam", "--interp-seeds=2",
            f"--interp-store={tmp_path / 'store'}"]
    plan = pytester.runpytest("--collect-only", "-q", *args)
    # the transformer-only claim is n/a on mlp: its runs add no cell
    plan.stdout.fnmatch_lines(["pytest-interp: 2 cells to run claims on: 0 stored, 2 to train, *"])
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").rglob("*.safetensors"))
    pytester.runpytest(*args).assert_outcomes(passed=2, skipped=2)
    again = pytester.runpytest("--collect-only", "-q", *args)
    again.stdout.fnmatch_lines(["pytest-interp: 2 cells to run claims on: 2 stored, 0 to train, *"])
    assert "by the stored times" not in plan.stdout.str()  # nothing stored to go by
    # a third seed: its time is estimated from the two stored seeds of the same cell
    more = pytester.runpytest("--collect-only", "-q", *args[:-2], "--interp-seeds=3", args[-1])
    more.stdout.fnmatch_lines(["pytest-interp: 3 cells to run claims on: 2 stored, 1 to train "
                               "(about a CPU-minute or less, by stored training times of other seeds, Adam twins or other sizes), plus any*"])
