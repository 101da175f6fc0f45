"""The findings report: FINDINGS specs, the zoo files they become, the page, and `pytest-interp findings`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from findings_files import cli, result, write_claim

from pytest_interp._errors import ConfigError
from pytest_interp._findings_spec import doc_sections, read_finding, zoo_toml
from pytest_interp._report.findings import axis_summary, coverage, render

ROOT = Path(__file__).resolve().parents[1]


def test_spec_and_docstring_are_read_without_running_the_file(tmp_path: Path) -> None:
    path = write_claim(tmp_path, '{"families": ["mlp"], "hparams": {"adamw": {"weight_decay": 1.0}}, '
                                 '"budget": {"steps": 500}, "extra_optimizers": ["adamw"]}')
    path.write_text(path.read_text() + "\nraise SystemExit('never imported')\n")
    f = read_finding(path)
    assert f is not None and f.families == ["mlp"] and f.budget == {"steps": 500}
    assert f.title == "Parity is decodable."
    assert f.sections["Direction reported"] == "deeper layers decode the label better."
    assert set(f.sections) == {"Source", "Direction reported", "Measured here"}
    zoo = tomllib.loads(zoo_toml(f, ["1k", "10k"], ["sgd", "adam"], 3))
    assert zoo["grid"] == {"families": ["mlp"], "sizes": ["1k", "10k"], "optimizers": ["sgd", "adam", "adamw"], "seeds": 3}
    assert zoo["hparams"] == {"adamw": {"weight_decay": 1.0}} and zoo["budget"] == {"steps": 500}


def test_a_file_without_findings_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "test_x.py"
    path.write_text("def test_x():\n    pass\n")
    assert read_finding(path) is None


@pytest.mark.parametrize("spec", [
    '{"hparams": {}}',                                   # no families
    '{"families": "mlp"}',                               # not a list
    '{"families": ["../mlp"]}',                          # not a name
    '{"families": ["mlp"], "budget": {"steps": -1}}',
    '{"families": ["mlp"], "budget": {"epochs": 3}}',
    '{"families": ["mlp"], "hparams": {"adam": {"lr": [1, 2]}}}',
    '{"families": ["mlp"], "colour": "red"}',
    '{"families": ["mlp"], "sizes": ["big"]}',
    '{"families": ["mlp"], "sizes": []}',
    '{"families": ["mlp"], "sizes": "1k"}',
    'dict(families=["mlp"])',                            # not a literal
])
def test_malformed_specs_are_config_errors(tmp_path: Path, spec: str) -> None:
    with pytest.raises(ConfigError):
        read_finding(write_claim(tmp_path, spec))


def test_doc_sections_join_wrapped_lines() -> None:
    doc = "Title.\n\nSource: A\n  B.\n\nCondition: LayerNorm\nwithout gain.\nMeasured here (digits): x\n  y.\n\nOther: z"
    assert doc_sections(doc) == {"Source": "A B.", "Condition": "LayerNorm without gain.", "Measured here": "(digits): x y."}


def test_axis_summary_counts_seeds_and_says_where_it_breaks() -> None:
    rs = [result("holds", "mlp", seed=0), result("holds", "mlp", seed=1), result("breaks", "lstm", seed=0),
          result("breaks", "lstm", seed=1), result("untrained", "gru"), result("n/a", "cnn")]
    text = axis_summary(rs, "family", ["mlp", "lstm", "gru", "cnn"])
    assert text == "depends on it: holds for mlp (2/2); breaks for lstm (0/2); untrained for gru; n/a for cnn."
    assert axis_summary(rs[:2], "family", ["mlp"]).startswith("transfers: ")
    assert axis_summary(rs[2:4], "family", ["lstm"]).startswith("breaks throughout: ")
    # a family n/a on most seeds and untrained on a few is n/a, with the few counted
    gru = [result("n/a", "gru", seed=s) for s in range(3)] + [result("untrained", "gru", seed=3)]
    assert axis_summary(gru, "family", ["gru"]) == "no decided cell: n/a for gru (1 untrained)."


def test_page_shows_one_symbol_per_seed_the_direction_and_escapes_cells(tmp_path: Path) -> None:
    f = read_finding(write_claim(tmp_path, '{"families": ["mlp", "lstm"]}'))
    assert f is not None
    results = [result("holds", "mlp", optimizer="sgd", seed=0), result("holds", "mlp", optimizer="sgd", seed=1, vacuous=True),
               result("breaks", "lstm", optimizer="adam", seed=0), result("untrained", "lstm", optimizer="adam", seed=1)]
    verdicts = [{"claim": results[0]["claim"], "variant": None, "family": "mlp", "size": "1k", "optimizer": "sgd",
                 "verdict": "holds", "measurements": [{"name": "a|b", "mean": 0.95, "op": ">=", "threshold": 0.9,
                                                       "null": {"mean": 0.5}}]}]
    page = render([(f, {"results": results, "verdicts": verdicts})], command="pytest-interp findings",
                  sizes=["1k"], optimizers=["sgd", "adam"], seeds=2)
    assert "| mlp | 1k | ✓○ |  |" in page
    assert "| lstm | 1k |  | ✗? |" in page
    assert "**Direction reported:** deeper layers decode the label better." in page
    assert "a\\|b" in page and "| mlp | 1k | 0.95 (0.5) |  |" in page
    assert "| `test_parity.py` | reduced: no 1k; no sgd, adam; ? of 2 seeds | deeper layers decode the label better. | `test_embedding` " \
           "| 2/3 | 1/4 |" in page  # the document names no grid, so it cannot count as the full one
    not_run = render([(f, None)], command="c", sizes=["1k"], optimizers=["sgd"], seeds=1)
    assert "*Not run yet.*" in not_run


def test_each_metric_gets_its_own_table_never_a_mix() -> None:
    """A claim that breaks at its first check records no later one: each metric's table shows that
    metric in every cell (a dash where an earlier check decided), never another metric in its place."""
    from pytest_interp._report.findings import render_claim

    def verdict(size: str, verdict: str, *ms: tuple[str, float]) -> dict[str, Any]:
        return {"family": "mlp", "size": size, "optimizer": "adam", "verdict": verdict,
                "measurements": [{"name": n, "mean": v, "op": ">=", "threshold": 0.7} for n, v in ms]}

    def checked(size: str, outcome: str, *ms: tuple[str, float]) -> dict[str, Any]:
        return result(outcome, size=size, measurements=[{"name": n, "value": v} for n, v in ms])

    results = [checked("1k", "breaks", ("share", 0.6)), checked("10k", "holds", ("share", 0.9), ("copying", 0.99))]
    verdicts = [verdict("1k", "breaks", ("share", 0.6)), verdict("10k", "holds", ("copying", 0.99), ("share", 0.9))]
    text = "\n".join(render_claim("c.py::test_x", None, results, verdicts))
    share, copying = text.split("<details><summary>")[1:]
    assert share.startswith("share:") and "| mlp | 1k | 0.6 |" in share and "| mlp | 10k | 0.9 |" in share
    assert "– : an earlier check" not in share
    assert copying.startswith("copying:") and "| mlp | 1k | – |" in copying and "| mlp | 10k | 0.99 |" in copying
    assert "– : an earlier check of the claim decided the cell" in copying


@pytest.mark.parametrize("grid, words", [
    ({"sizes": ["1k", "10k", "100k"], "optimizers": ["sgd", "adam", "adamw"], "seeds": 3}, "full"),
    ({"sizes": ["1k", "10k"], "optimizers": ["adam"], "seeds": 1}, "reduced: no 100k; no sgd; 1 of 3 seeds"),
    ({}, "reduced: no 1k, 10k, 100k; no sgd, adam; ? of 3 seeds"),
])
def test_coverage_says_full_only_when_the_results_cover_the_page_grid(grid: dict[str, Any], words: str) -> None:
    assert coverage(grid, ["1k", "10k", "100k"], ["adam", "sgd"], 3) == words


def test_coverage_of_a_run_that_stopped_early_is_never_full() -> None:
    grid = {"sizes": ["1k"], "optimizers": ["adam"], "seeds": 1}
    assert coverage(grid, ["1k"], ["adam"], 1, "interrupted") == "reduced: stopped early (interrupted)"


def test_command_line_sizes_win_over_the_files_own(tmp_path: Path) -> None:
    f = read_finding(write_claim(tmp_path, '{"families": ["mlp"], "sizes": ["1k"]}'))
    assert f is not None
    assert tomllib.loads(zoo_toml(f, None, ["sgd"], 1))["grid"]["sizes"] == ["1k"]
    assert tomllib.loads(zoo_toml(f, ["10k"], ["sgd"], 1))["grid"]["sizes"] == ["10k"]
    g = read_finding(write_claim(tmp_path / "other", '{"families": ["mlp"]}'))
    assert g is not None and tomllib.loads(zoo_toml(g, None, ["sgd"], 1))["grid"]["sizes"] == ["1k", "10k", "100k"]


def test_cli_rejects_bad_input_in_one_line(tmp_path: Path) -> None:
    write_claim(tmp_path / "claims", '{"families": ["mlp"]}')
    for args, words in [(["--sizes", "huge"], "size"), (["--seeds", "0"], "--seeds"),
                        (["--only", "test_nothing"], "test_nothing"), (["nowhere"], "not a folder"),
                        (["--device", "gpu0"], "invalid device"), (["--hours", "2"], "--hours bounds a build"),
                        (["--build", "--hours", "0"], "above 0"), (["--build", "--hours", "nan"], "above 0")]:
        done = cli("findings", *args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.usefixtures("store_env")
def test_cli_runs_a_findings_grid_and_writes_the_page(tmp_path: Path) -> None:
    write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 300}}')
    plan = cli("findings", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", "--plan", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.startswith("test_parity: 1 cells to run claims on: 0 stored, 1 to train")
    assert not (tmp_path / "docs").exists()  # a plan writes nothing
    done = cli("findings", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    page = (tmp_path / "docs" / "findings.md").read_text(encoding="utf-8")
    assert "| mlp | 1k | ✗ |" in page
    assert (tmp_path / "docs" / "findings" / "test_parity.json").is_file()
    zoo = tomllib.loads((tmp_path / "docs" / "findings" / "test_parity.zoo.toml").read_text())
    assert zoo["budget"] == {"steps": 300}
    again = cli("findings", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", "--render-only", cwd=tmp_path)
    after = cli("findings", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", "--plan", cwd=tmp_path)
    assert "1 stored, 0 to train" in after.stdout, after.stdout + after.stderr
    assert again.returncode == 0 and (tmp_path / "docs" / "findings.md").read_text(encoding="utf-8") == page
    # an interrupted rerun leaves the last whole results file as it was and keeps its own beside it
    results = tmp_path / "docs" / "findings" / "test_parity.json"
    before = results.read_bytes()
    claim = tmp_path / "claims" / "test_parity.py"
    claim.write_text(claim.read_text() + "\n\n@interp.claim()\ndef test_zz_stop(model):\n    raise KeyboardInterrupt\n")
    stopped = cli("findings", "--sizes", "1k", "--optimizers", "adam", "--seeds", "1", cwd=tmp_path)
    assert stopped.returncode == 1 and "test_parity.json is left as it was" in stopped.stderr, stopped.stderr
    assert results.read_bytes() == before
    partial = json.loads((tmp_path / "docs" / "findings" / "test_parity.partial.json").read_text())
    assert partial["stopped_early"] == "interrupted"


def test_the_shipped_findings_page_is_current(tmp_path: Path) -> None:
    """docs/findings.md must be what its results files and today's claim docstrings render to."""
    out = tmp_path / "findings.md"
    done = cli("findings", str(ROOT / "claims"), "--render-only", "--out", str(out), "--results",
               str(ROOT / "docs" / "findings"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == (ROOT / "docs" / "findings.md").read_text(encoding="utf-8"), \
        "run `pytest-interp findings --render-only`"


def test_cli_with_workers_says_the_plan_and_what_each_worker_trained(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))  # its own: nothing stored yet
    write_claim(tmp_path / "claims", '{"families": ["mlp"], "budget": {"steps": 300}}')
    done = cli("findings", "--sizes", "1k", "--optimizers", "adam,sgd", "--seeds", "1", "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    lines = done.stdout.splitlines()
    plan = [ln for ln in lines if ln.startswith("pytest-interp: 2 cells to run claims on: 0 stored, 2 to train")]
    assert len(plan) == 1, done.stdout[-2000:]  # printed once, by the controller, from the first worker
    trained = [ln for ln in lines if ln.startswith("[interp] gw") and " trained cell mlp-1k-" in ln]
    assert len(trained) == 2 and trained[-1].endswith("(2 trained in this run)"), done.stdout[-2000:]


