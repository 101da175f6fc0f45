"""The console script: merging results files (and refusing bad ones), reports without re-running."""

from __future__ import annotations

import json
import shutil
import subprocess
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from pytest_interp._cli import main
from pytest_interp._report import merge as merge_module
from pytest_interp._report import results


def _row(family: str, outcome: str, value: float, size: str = "1k", params: int = 1000,
         seconds: float = 0.5) -> dict[str, Any]:
    return {"claim": "c.py::test_probe", "variant": None, "cell": f"{family}-{size}-adam-t-s0", "family": family,
            "size": size, "params": params, "optimizer": "adam", "task": "t", "seed": 0, "outcome": outcome,
            "reason": None, "measurements": [{"name": "acc", "value": value, "threshold": 0.9, "op": ">="}],
            "control": None, "vacuous": False, "training": {"steps": 10, "seconds": seconds},
            "provenance": {"claim_sha256": "x"}, "doc": "Probe."}


def _write(path: Path, rows: list[dict[str, Any]], **grid: Any) -> Path:
    g = {"families": sorted({r["family"] for r in rows}), "sizes": ["1k", "10k"], "optimizers": ["adam"],
         "seeds": 1, "device": "cpu", "quorum": "all", **grid}
    results.write(path, results.build(rows, {"cells_trained": len(rows)}, g))
    return path


def test_schema_versions_agree() -> None:
    assert merge_module.SCHEMA_VERSION == results.SCHEMA_VERSION


def test_merge_shards_into_one_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _write(tmp_path / "a.json", [_row("mlp", "holds", 0.95), _row("mlp", "breaks", 0.7, "10k", 10_000)])
    # b repeats one of a's entries (same result, another machine's timing) and adds lstm
    b = _write(tmp_path / "b.json", [_row("mlp", "holds", 0.95, seconds=9.0), _row("lstm", "breaks", 0.6)])
    out = tmp_path / "merged.json"
    assert main(["merge", str(a), str(b), "-o", str(out)]) == 0
    assert "merged 2 files, 3 results" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert [(r["family"], r["size"]) for r in doc["results"]] == [("lstm", "1k"), ("mlp", "1k"), ("mlp", "10k")]
    assert [v["verdict"] for v in doc["verdicts"]] == ["breaks", "holds", "breaks"]
    assert doc["grid"]["families"] == ["mlp", "lstm"] and doc["stats"]["cells_trained"] == 4
    assert doc["merged_from"] == [str(a), str(b)]
    (trend,) = doc["trends"]  # mlp over two sizes: 0.95 -> 0.7 is -0.25 per decade
    assert trend["family"] == "mlp" and trend["slope_per_decade"] == pytest.approx(-0.25)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("{oops"), "b.json: not valid JSON"),
    (lambda p: p.write_text("[]"), "b.json: not a results file (expected a JSON object)"),
    (lambda p: p.write_text(json.dumps({"schema_version": 2, "results": []})),
     "b.json: schema version 2; this pytest-interp reads version 1"),
    (lambda p: p.write_text(json.dumps({"schema_version": 1, "results": {}})), "b.json: 'results' must be a list"),
    (lambda p: p.write_text(json.dumps({"schema_version": 1, "results": [{**_row("gru", "holds", 1), "outcome": "ok"}]})),
     "b.json: results[0]: 'outcome' must be one of holds, breaks, n/a, untrained, error"),
    (lambda p: p.write_text(json.dumps({"schema_version": 1, "results": [{**_row("gru", "holds", 1), "seed": "0"}]})),
     "b.json: results[0]: 'seed' must be an integer"),
    (lambda p: _write(p, [_row("mlp", "breaks", 0.5)]),
     "conflicting entries for c.py::test_probe @ mlp-1k-adam-t-s0 in *a.json and *b.json (outcome holds vs breaks)"),
    (lambda p: _write(p, [_row("mlp", "holds", 0.96)]),
     "conflicting entries for c.py::test_probe @ mlp-1k-adam-t-s0 * (differing measurements)"),
    (lambda p: _write(p, [_row("gru", "holds", 0.96)], quorum="0.5"),
     "the files were run with different quorums (0.5, all); verdicts cannot be merged"),
])
def test_merge_refuses_bad_files_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               make: Any, message: str) -> None:
    a = _write(tmp_path / "a.json", [_row("mlp", "holds", 0.95)])
    b = tmp_path / "b.json"
    make(b)
    out = tmp_path / "merged.json"
    assert main(["merge", str(a), str(b), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pytest-interp: error: ")
    pattern = message.replace("[", "[[]")  # a literal bracket; '*' stays a wildcard
    assert fnmatch(err.strip(), f"pytest-interp: error: *{pattern}*"), err
    assert not out.exists()


def test_report_renders_a_results_file_without_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "r.json", [_row("mlp", "holds", 0.95), _row("mlp", "breaks", 0.7, "10k", 10_000)])
    page = tmp_path / "out" / "r.html"
    assert main(["report", str(src), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "c.py::test_probe  [task t]  1 holds, 1 breaks" in out
    assert "  mlp adam  acc: slope -0.25/decade; crosses >= 0.9 at ~1.58k params (within the sizes run), holds below" \
        in out
    html = page.read_text()
    assert 'data-kind="holds"' in html and 'data-kind="breaks"' in html and "Probe." in html
    assert "http://" not in html and "https://" not in html  # nothing to fetch at view time


def test_report_fills_in_verdicts_for_a_bare_file(tmp_path: Path) -> None:
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"schema_version": 1, "results": [_row("mlp", "holds", 0.95)]}))
    page = tmp_path / "bare.html"
    assert main(["report", str(bare), "--html", str(page), "-q"]) == 0
    assert 'data-kind="holds"' in page.read_text()


def test_console_script_is_installed(tmp_path: Path) -> None:
    exe = shutil.which("pytest-interp")
    assert exe is not None, "reinstall with `pip install -e .` to get the pytest-interp console script"
    done = subprocess.run([exe, "report", str(tmp_path / "missing.json")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and "missing.json: no such file" in done.stderr


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["merge", "a.json"])
    assert exc.value.code == 2 and "-o" in capsys.readouterr().err


def test_merge_keeps_the_named_models_of_every_file() -> None:
    from pytest_interp._report.merge import merge_grids

    a = {"families": ["mlp"], "models": [{"name": "minilm", "kind": "hf", "path": "m", "family": "minilm",
                                          "params": 1, "task": "token-identity"}]}
    b = {"families": ["ckpt"], "models": [{"name": "rc2", "kind": "checkpoint", "path": "c.safetensors",
                                           "family": "mlp", "params": 2, "task": "sparse-parity"}],
         "seeds": 2}
    merged = merge_grids([a, b, a])
    assert [m["name"] for m in merged["models"]] == ["minilm", "rc2"]
    assert merged["families"] == ["mlp", "ckpt"] and merged["seeds"] == 2
    assert "models" not in merge_grids([{"families": ["mlp"]}])


def test_a_merge_keeps_what_stopped_early(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.json", [_row("mlp", "holds", 0.95)])
    b = tmp_path / "b.json"
    results.write(b, results.build([_row("lstm", "breaks", 0.6)], {}, {"quorum": "all"}, stopped_early="interrupted"))
    out = tmp_path / "merged.json"
    assert main(["merge", str(a), str(b), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["stopped_early"] == f"{b}: interrupted"
    assert main(["merge", str(a), str(a), "-o", str(out)]) == 0
    assert "stopped_early" not in json.loads(out.read_text())


def test_a_cell_one_shard_lacked_and_another_measured_is_not_missing_after_a_merge(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    results.write(a, results.build([_row("mlp", "holds", 0.95)], {}, {"quorum": "all"},
                                   not_stored=["lstm-1k-adam-t-s0", "gru-1k-adam-t-s0"]))
    results.write(b, results.build([_row("lstm", "breaks", 0.6)], {}, {"quorum": "all"}, not_stored=["gru-1k-adam-t-s0"]))
    doc = merge_module.merge([(str(a), merge_module.load_results(a)), (str(b), merge_module.load_results(b))])
    assert doc["not_stored"] == ["gru-1k-adam-t-s0"]


def _doc(rows: list[dict[str, Any]], not_stored: list[str] | None = None, **grid: Any) -> dict[str, Any]:
    g = {"families": ["mlp", "lstm"], "sizes": ["1k", "10k"], "optimizers": ["adam"], "seeds": 1, "quorum": "all",
         **grid}
    return results.build(rows, {"cells_loaded": len(rows)}, g, not_stored=not_stored)


def test_carry_forward_keeps_the_last_results_of_cells_the_store_lacks() -> None:
    new = _doc([_row("mlp", "holds", 0.95, size="10k", params=10_000)],
               not_stored=["mlp-1k-adam-t-s0", "lstm-1k-adam-t-s0"])
    last = _doc([_row("mlp", "breaks", 0.5), _row("mlp", "breaks", 0.4, size="10k", params=10_000)],
                not_stored=["lstm-1k-adam-t-s0"])
    last["results"][0]["provenance"]["checkpoint_key"] = "k1"
    keys = {"mlp-1k-adam-t-s0": "k1", "mlp-10k-adam-t-s0": "k3"}  # the kept cell's key is the same now
    doc, kept, dropped = merge_module.carry_forward(new, last, {"test_probe"}, "last.json", keys)
    assert (kept, dropped) == (1, 0)
    # the cell measured now wins over its last result; the one the store lacks comes from the last file
    assert [(r["cell"], r["outcome"]) for r in doc["results"]] == [("mlp-1k-adam-t-s0", "breaks"),
                                                                   ("mlp-10k-adam-t-s0", "holds")]
    assert doc["not_stored"] == ["lstm-1k-adam-t-s0"] and doc["carried_from"] == "last.json"
    assert doc["stats"]["carried"] == 1 and doc["stats"]["results"] == 2
    assert {v["size"]: v["verdict"] for v in doc["verdicts"]} == {"1k": "breaks", "10k": "holds"}
    assert len(doc["trends"]) == 1  # recomputed over both sizes
    merge_module.validate(doc, "carried")


@pytest.mark.parametrize("change, why", [
    ({"claims": {"test_other"}}, "the claim is gone from the file"),
    ({"sha": "y"}, "the claim's source changed since the last results"),
    ({"grid": {"sizes": ["10k"]}}, "the cell is no longer on the grid"),
    ({"grid": {"families": ["lstm"]}}, "the family is no longer on the grid"),
    ({"keys": {"mlp-1k-adam-t-s0": "k2"}}, "the cell would be trained under another key now"),
])
def test_carry_forward_drops_last_results_it_cannot_vouch_for(change: dict[str, Any], why: str) -> None:
    fresh = _row("lstm", "holds", 0.95, size="10k")
    fresh["provenance"] = {"claim_sha256": change.get("sha", "x")}
    new = _doc([fresh], not_stored=["mlp-1k-adam-t-s0"], **change.get("grid", {}))
    old = _row("mlp", "breaks", 0.5)
    old["provenance"]["checkpoint_key"] = "k1"
    last = _doc([old])
    doc, kept, dropped = merge_module.carry_forward(new, last, change.get("claims", {"test_probe"}),
                                                    keys=change.get("keys", {"mlp-1k-adam-t-s0": "k1"}))
    assert (kept, dropped) == (0, 1), why
    assert doc["results"] == new["results"] and doc["not_stored"] == ["mlp-1k-adam-t-s0"] and "carried_from" not in doc


def _untrained_carry(fresh_variant: str | None = None, key_now: str = "k1", reached: bool = False,
                     record: bool = True) -> tuple[dict[str, Any], int, int]:
    """A stored-only run of an edited claim (new source hash) beside last results whose cell the
    store lacks and whose recorded training missed the target."""
    fresh = _row("lstm", "holds", 0.95, size="10k")
    fresh["provenance"] = {"claim_sha256": "edited"}
    fresh["variant"] = fresh_variant
    new = _doc([fresh], not_stored=["mlp-1k-adam-t-s0"])
    old = _row("mlp", "untrained", 0.5)
    old.update(measurements=[], reason="test accuracy 0.500 < target 0.9",
               training={"steps": 10, "seconds": 0.5, "reached": reached, "test_accuracy": 0.5, "target": 0.9}
               if record else None)
    old["provenance"]["checkpoint_key"] = "k1"
    return merge_module.carry_forward(new, _doc([old]), {"test_probe"}, keys={"mlp-1k-adam-t-s0": key_now})


def test_an_untrained_result_survives_an_edited_claim_body() -> None:
    # untrained is decided from the cell's training before the body runs: editing the body cannot change it
    doc, kept, dropped = _untrained_carry()
    assert (kept, dropped) == (1, 0)
    assert sorted((r["cell"], r["outcome"]) for r in doc["results"]) == [("lstm-10k-adam-t-s0", "holds"),
                                                                         ("mlp-1k-adam-t-s0", "untrained")]
    assert doc["not_stored"] == [] and doc["stats"]["carried"] == 1


@pytest.mark.parametrize("change, why", [
    ({"fresh_variant": "k=2"}, "the edited claim no longer has the result's variant"),
    ({"key_now": "k2"}, "the cell would be trained under another key now"),
    ({"reached": True}, "the recorded training reached its target, so the body decided the outcome"),
    ({"record": False}, "the result records no training to vouch that the cell missed its target"),
])
def test_an_edited_claim_drops_untrained_results_it_cannot_vouch_for(change: dict[str, Any], why: str) -> None:
    doc, kept, dropped = _untrained_carry(**change)
    assert (kept, dropped) == (0, 1), why
    assert [r["cell"] for r in doc["results"]] == ["lstm-10k-adam-t-s0"]


def test_a_cell_an_edited_claim_must_measure_again_stays_not_stored() -> None:
    from pytest_interp._findings_results import measured_cells

    def claim(row: dict[str, Any], name: str, sha: str) -> dict[str, Any]:
        return {**row, "claim": f"c.py::{name}", "provenance": {"claim_sha256": sha, "checkpoint_key": "k1"}}

    fresh = _row("lstm", "holds", 0.95, size="10k")
    new = _doc([claim(fresh, "test_probe", "x"), claim(fresh, "test_edited", "edited")],
               not_stored=["mlp-1k-adam-t-s0"])
    old = _row("mlp", "holds", 0.95)
    last = _doc([claim(old, "test_probe", "x"), claim(old, "test_edited", "before")])
    doc, kept, dropped = merge_module.carry_forward(new, last, {"test_probe", "test_edited"},
                                                    keys={"mlp-1k-adam-t-s0": "k1"})
    assert (kept, dropped) == (1, 1)  # the unedited claim's result is kept, the edited one's is not
    # so the cell is still not stored: a build trains it and the edited claim gets measured there
    assert doc["not_stored"] == ["mlp-1k-adam-t-s0"] and "mlp-1k-adam-t-s0" not in measured_cells(doc)
    merge_module.validate(doc, "carried")


def test_a_provenance_field_only_one_file_records_is_no_conflict(tmp_path: Path) -> None:
    older, newer = _row("mlp", "holds", 0.95), _row("mlp", "holds", 0.95)
    newer["provenance"] = {**newer["provenance"], "checkpoint_key": "k1"}
    a, b = _write(tmp_path / "a.json", [older]), _write(tmp_path / "b.json", [newer])
    doc = merge_module.merge([(str(a), merge_module.load_results(a)), (str(b), merge_module.load_results(b))])
    assert len(doc["results"]) == 1
    newer["provenance"]["claim_sha256"] = "changed"  # a field both record and disagree on still conflicts
    c = _write(tmp_path / "c.json", [newer])
    with pytest.raises(merge_module.ResultsFileError, match="differing provenance"):
        merge_module.merge([(str(a), merge_module.load_results(a)), (str(c), merge_module.load_results(c))])


def test_a_merge_keeps_a_cell_the_carrying_file_both_measured_and_lists_as_not_stored() -> None:
    # carry_forward leaves a cell in `not_stored` beside kept results when an edited claim must be
    # measured there again; merging that file with itself or another must not lose the mark
    row = _row("mlp", "holds", 0.95)
    carried = _doc([row], not_stored=["mlp-1k-adam-t-s0"])
    other = _doc([_row("lstm", "breaks", 0.6)], not_stored=[])
    doc = merge_module.merge([("carried.json", carried), ("other.json", other)])
    assert doc["not_stored"] == ["mlp-1k-adam-t-s0"]
    merge_module.validate(doc, "merged")


def test_a_variant_an_edited_claim_no_longer_has_does_not_keep_its_cell_not_stored() -> None:
    def claim(row: dict[str, Any], name: str, sha: str, variant: str = "") -> dict[str, Any]:
        return {**row, "claim": f"c.py::{name}", "variant": variant,
                "provenance": {"claim_sha256": sha, "checkpoint_key": "k1"}}

    fresh = _row("lstm", "holds", 0.95, size="10k")
    new = _doc([claim(fresh, "test_probe", "x"), claim(fresh, "test_edited", "edited", "b")],
               not_stored=["mlp-1k-adam-t-s0"])
    old = _row("mlp", "holds", 0.95)
    last = _doc([claim(old, "test_probe", "x"), claim(old, "test_edited", "before", "a")])
    doc, kept, dropped = merge_module.carry_forward(new, last, {"test_probe", "test_edited"},
                                                    keys={"mlp-1k-adam-t-s0": "k1"})
    assert (kept, dropped) == (1, 1)
    # variant 'a' is gone from the claim: nothing is left to measure there, so no build trains the cell
    assert doc["not_stored"] == []
