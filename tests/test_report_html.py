"""The HTML report: escaping, colours, and what real headless Chromium renders."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pytest_interp._report.html import STYLE, json_for_script, kind, render

EVIL_NAME = ('</script><script>document.documentElement.setAttribute("data-pwned","name")</script>'
             '<script>alert(1)</script>')
EVIL_DOC = ('<script>alert(1)</script><img src=x '
            'onerror="document.documentElement.setAttribute(\'data-pwned\',\'doc\')">')

CLAIMS = r'''
import pytest
import pytest_interp as interp

EVIL = %r


@interp.claim(needs=["hidden"])
def test_probe(model):
    acc = interp.logistic_probe(model.activations("hidden", "last"), model.data.latents["parity"])
    interp.check("probe_accuracy", acc, ">=", 0.9)


@interp.claim()
def test_constant(model):
    interp.check("score", 1.0, ">=", 0.5)  # holds on the untrained control too: vacuous


@interp.claim()
def test_breaks(model):
    interp.check("score", 0.25, ">=", 0.5)


@interp.claim(needs=["attn.head"])
def test_needs_heads(model):
    raise AssertionError("never runs on an mlp")


@pytest.mark.parametrize("label", [EVIL], ids=["evil"])
@interp.claim()
def test_evil(model, label):
    %r
    interp.check("score", 0.25, ">=", 0.5)
''' % (EVIL_NAME, EVIL_DOC)

# the zoo of tests/test_plugin_outcomes.py: its cells are already in the shared store
ZOO = """
[grid]
families = ["mlp"]
sizes = ["1k"]
optimizers = ["adam", "sgd"]

[hparams.sgd]
lr = 0.0

[budget]
steps = 300
"""


def _planted() -> dict[str, Any]:
    def v(claim: str, verdict: str, vacuous: bool = False, **kw: Any) -> dict[str, Any]:
        return {"claim": claim, "variant": kw.get("variant"), "family": "mlp", "size": "1k", "optimizer": "adam",
                "task": "t", "verdict": verdict, "vacuous": vacuous, "seeds_holding": 1, "seeds_run": 2,
                "control": None, "params": 900,
                "measurements": [{"name": "m", "mean": 0.5, "low": 0.4, "high": 0.6, "n": 2, "threshold": 0.9,
                                  "op": ">="}]}
    verdicts = [v(f"c.py::{EVIL_NAME}", "holds", variant=EVIL_NAME), v("c.py::t", "mixed 1/2")]
    results = [{"claim": f"c.py::{EVIL_NAME}", "variant": EVIL_NAME, "doc": EVIL_DOC}]
    return {"schema_version": 1, "grid": {"families": [EVIL_NAME]}, "results": results, "verdicts": verdicts}


def test_every_string_is_escaped_and_the_data_block_cannot_be_closed() -> None:
    page = render(_planted())
    assert page.count("<script") == 2  # the JSON data block and the page's own script
    assert "<script>alert(1)" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    block = re.search(r'<script type="application/json" id="interp-data">(.*?)</script>', page, re.S)
    assert block is not None and "<" not in block.group(1) and ">" not in block.group(1)
    assert any(EVIL_NAME in c for c in json.loads(block.group(1))["claims"])


def test_json_for_script_round_trips_without_markup_characters() -> None:
    data = {"a": "</script><!-- & \u2028 é"}
    text = json_for_script(data)
    assert not set("<>&") & set(text) and json.loads(text) == data


def test_a_heatmap_shows_one_metric_in_every_cell() -> None:
    """Cells measure different metrics where a claim broke at its first check: the heatmap shows the one
    most cells measured, and a cell without it shows no value rather than another metric's."""
    def verdict(size: str, *ms: tuple[str, float]) -> dict[str, Any]:
        return {"claim": "c.py::test_x", "variant": None, "family": "mlp", "size": size, "optimizer": "adam",
                "task": "t", "verdict": "holds", "seeds_holding": 1, "seeds_run": 1,
                "measurements": [{"name": n, "mean": v, "low": v, "high": v, "op": ">=", "threshold": 0.5}
                                 for n, v in ms]}

    page = render({"results": [], "verdicts": [verdict("1k", ("b_share", 0.25)), verdict("10k", ("b_share", 0.75)),
                                               verdict("100k", ("a_copy", 0.125))]})
    values = re.findall(r'<span class="val">([^<]*)</span>', page)
    assert values == ["0.25", "0.75"], values  # a_copy sorts first but only one cell measured it


def test_each_verdict_kind_has_its_own_colour() -> None:
    colours = {k: re.search(rf"\.k-{k}\{{background:(#[0-9a-f]{{6}})", STYLE).group(1)  # type: ignore[union-attr]
               for k in ("holds", "breaks", "mixed", "na", "untrained", "vacuous", "error")}
    assert len(set(colours.values())) == len(colours)
    assert kind({"verdict": "holds", "vacuous": True}) == "vacuous"
    assert kind({"verdict": "mixed 1/3"}) == "mixed" and kind({"verdict": "n/a"}) == "n/a"


# -- in a real browser ------------------------------------------------------------

def _chromium() -> str | None:
    return shutil.which("chromium") or (str(Path("/usr/bin/chromium")) if Path("/usr/bin/chromium").exists() else None)


def _dump_dom(page: Path, profile: Path) -> str:
    """The DOM after the page's scripts ran. A blocking alert() from injected code times out here."""
    exe = _chromium()
    assert exe is not None
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
           "--dump-dom", page.as_uri()]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the page never finished loading: a dialog opened by injected script (alert) blocks it")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Dom(HTMLParser):
    """What the report shows: per claim the cells (algorithm, family, size) -> kind, the name and doc text."""

    def __init__(self) -> None:
        super().__init__()
        self.root: dict[str, str | None] = {}
        self.scripts = 0
        self.claims: list[dict[str, Any]] = []
        self.options: list[str] = []
        self._optimizer: str | None = None
        self._capture: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "html":
            self.root = a
        elif tag == "script":
            self.scripts += 1
        elif tag == "section" and "claim" in cls:
            self.claims.append({"name": "", "doc": "", "cells": {}})
        elif tag == "h2" and "claim-name" in cls:
            self._capture = ("claim", "name")
        elif tag == "p" and "doc" in cls:
            self._capture = ("claim", "doc")
        elif tag == "option":
            self.options.append("")
            self._capture = ("option", "")
        elif tag == "div" and "panel" in cls:
            self._optimizer = a.get("data-optimizer")
        elif tag == "td" and "cell" in cls and a.get("data-kind") != "none":
            self.claims[-1]["cells"][(self._optimizer, a.get("data-family"), a.get("data-size"))] = a["data-kind"]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "p", "option"):
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture == ("claim", "name"):
            self.claims[-1]["name"] += data
        elif self._capture == ("claim", "doc"):
            self.claims[-1]["doc"] += data
        elif self._capture == ("option", ""):
            self.options[-1] += data


def _parse(dom: str) -> _Dom:
    parsed = _Dom()
    parsed.feed(dom)
    return parsed


@pytest.mark.usefixtures("store_env")
def test_chromium_renders_the_cells_and_runs_no_injected_script(pytester: pytest.Pytester, tmp_path: Path) -> None:
    if _chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    pytester.makepyfile(test_claims=CLAIMS)
    pytester.path.joinpath("zoo.toml").write_text(ZOO)
    page = pytester.path / "report" / "index.html"
    result = pytester.runpytest("--interp-models=zoo.toml", f"--interp-html={page}")
    result.stdout.fnmatch_lines([f"interp: HTML report written to {page}"])

    dom = _parse(_dump_dom(page, tmp_path / "profile"))
    assert dom.root.get("data-interp-ready") == "5"  # the page's own script ran, over 5 claims
    by_name = {c["name"].split("::")[1].split("[")[0]: c for c in dom.claims}
    expected = {"test_probe": "holds", "test_constant": "vacuous", "test_breaks": "breaks",
                "test_needs_heads": "n/a", "test_evil": "breaks"}
    for name, adam_kind in expected.items():
        sgd_kind = "n/a" if adam_kind == "n/a" else "untrained"  # lr 0 never trains
        assert by_name[name]["cells"] == {("adam", "mlp", "1k"): adam_kind, ("sgd", "mlp", "1k"): sgd_kind}, name

    # the claim's name and docstring show as text; nothing in them ran
    evil = by_name["test_evil"]
    assert evil["name"] == f"test_claims.py::test_evil[label={EVIL_NAME!r}]"
    assert "<script>alert(1)</script>" in evil["name"] and evil["doc"] == EVIL_DOC
    assert evil["name"] in dom.options  # built by the page's script from the JSON data block
    assert dom.scripts == 2
    assert not [k for k in dom.root if k.startswith("data-pwned")]

    # the check can fail: the same payload unescaped (and without the page's CSP) is caught
    raw = page.read_text()
    raw = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", raw)
    raw = raw.replace(">test_claims.py::test_evil", f">{EVIL_NAME.replace('alert(1)', '')}")
    raw = raw.replace("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img", "<img", 1)
    raw = raw.replace("&#x27;data-pwned&#x27;,&#x27;doc&#x27;)&quot;&gt;", "'data-pwned','doc')\">", 1)
    canary = pytester.path / "canary.html"
    canary.write_text(raw)
    caught = _parse(_dump_dom(canary, tmp_path / "profile"))
    assert {"data-pwned"} <= set(caught.root)
