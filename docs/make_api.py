"""Writes docs/api.md from pytest_interp's export table: `python docs/make_api.py`."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest_interp
from pytest_interp import strategies

TITLES = {
    "claimspec": "Claims", "measure": "Measurements", "subject": "The model under test", "sites": "Sites",
    "interventions": "Interventions", "instruments": "Instruments", "outcomes": "Outcomes", "errors": "Errors",
    "grid": "The grid", "extend": "Extending", "families": "Extending: families",
    "algorithms": "Extending: learning algorithms", "tasks": "Extending: tasks",
}


def render() -> str:
    groups: dict[str, list[str]] = {}
    for name, module in pytest_interp._EXPORTS.items():
        groups.setdefault(module.lstrip("_"), []).append(name)
    lines = ["# Public API", "",
             "Claim files and extensions may rely on exactly these names, importable from `pytest_interp`",
             "(plus the module `pytest_interp.strategies`, which needs Hypothesis). Everything else in the",
             "package is private: its modules may change without notice. This page is generated from",
             "`pytest_interp/__init__.py` by `python docs/make_api.py`; a test checks it is current.", ""]
    for module, title in TITLES.items():
        lines += [f"## {title}", ""]
        for name in groups.get(module, []):
            obj = getattr(pytest_interp, name)
            doc = (inspect.getdoc(obj) or "").strip().splitlines() if callable(obj) else []
            lines.append(f"- `{name}`" + (f" — {doc[0]}" if doc else ""))
        lines.append("")
    lines += ["## `pytest_interp.strategies`", ""]
    for name in ("inputs", "perturbations", "repeated_sequences", "held_out_examples"):
        lines.append(f"- `{name}` — {inspect.getdoc(getattr(strategies, name)).splitlines()[0]}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    Path(__file__).with_name("api.md").write_text(render(), encoding="utf-8")
