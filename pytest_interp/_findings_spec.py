"""A claim file's findings grid, read from its source without running it.

Claim files declare where their claims apply with a module constant, read with
`ast.literal_eval`, so a claim file is never imported to plan or report its grid:

    FINDINGS = {"families": ["mlp", "transformer"], "hparams": {"adamw": {"weight_decay": 1.0}},
                "budget": {"steps": 2000}, "extra_optimizers": ["adamw"]}

An optional "sizes" list replaces the default sizes for that file; `--sizes` on the command line
replaces both. The docstring's paragraphs starting "Source:", "Direction reported:",
"Condition:" and "Measured here:" are the sections the report shows beside the matrices.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ._errors import ConfigError
from ._grid import parse_size

#: DESIGN.md's order of learning algorithms; others follow alphabetically.
ALGORITHMS = ["sgd", "adam", "adamw", "muon", "lbfgs", "shampoo", "es", "reptile"]
DEFAULT_SIZES = ["1k", "10k", "100k"]
DEFAULT_OPTIMIZERS = ["sgd", "adam", "muon", "lbfgs", "shampoo", "es", "reptile"]
DEFAULT_SEEDS = 3
SECTIONS = ("Source", "Direction reported", "Condition", "Measured here")
#: a section's first line: "Measured here:" or "Measured here (digits, seed 0):"
HEAD = re.compile(r"^(" + "|".join(re.escape(n) for n in SECTIONS) + r")(?=:|\s*\()")
SPEC_KEYS = {"families", "hparams", "budget", "extra_optimizers", "sizes"}
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


@dataclass
class Finding:
    """One claim file: its path, its docstring's sections and its grid."""

    path: Path
    title: str
    sections: dict[str, str]
    families: list[str]
    hparams: dict[str, dict[str, Any]] = field(default_factory=dict)
    budget: dict[str, int] = field(default_factory=dict)
    extra_optimizers: list[str] = field(default_factory=list)
    sizes: list[str] | None = None

    @property
    def stem(self) -> str:
        return self.path.stem


def _names(value: Any, what: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and NAME.match(v) for v in value):
        raise ConfigError(f"{path}: FINDINGS[{what!r}] must be a list of names (lowercase, digits, - or _)")
    return list(value)


def _scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str)) and not (isinstance(value, str) and len(value) > 200)


def read_finding(path: Path) -> Finding | None:
    """The file's finding, or None if it declares no FINDINGS; ConfigError for a malformed one."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    spec: Any = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "FINDINGS" for t in node.targets):
            try:
                spec = ast.literal_eval(node.value)
            except ValueError as exc:
                raise ConfigError(f"{path}: FINDINGS must be a literal dict ({exc})") from None
    if spec is None:
        return None
    if not isinstance(spec, dict) or not set(spec) <= SPEC_KEYS or "families" not in spec:
        raise ConfigError(f"{path}: FINDINGS must be a dict with 'families' and only {sorted(SPEC_KEYS)}")
    hparams = spec.get("hparams", {})
    if not isinstance(hparams, dict) or not all(
            isinstance(k, str) and NAME.match(k) and isinstance(v, dict)
            and all(isinstance(hk, str) and NAME.match(hk) and _scalar(hv) for hk, hv in v.items())
            for k, v in hparams.items()):
        raise ConfigError(f"{path}: FINDINGS['hparams'] must map algorithm names to {{name: number or string}}")
    budget = spec.get("budget", {})
    if not isinstance(budget, dict) or not all(k in ("steps", "batch_size", "eval_every") and isinstance(v, int)
                                                and not isinstance(v, bool) and v > 0 for k, v in budget.items()):
        raise ConfigError(f"{path}: FINDINGS['budget'] takes positive integers for steps, batch_size, eval_every")
    sizes = spec.get("sizes")
    if sizes is not None:
        if not isinstance(sizes, list) or not sizes or not all(isinstance(s, str) for s in sizes):
            raise ConfigError(f"{path}: FINDINGS['sizes'] must be a list of size targets such as \"1k\"")
        for s in sizes:
            try:
                parse_size(s)
            except ValueError as exc:
                raise ConfigError(f"{path}: FINDINGS['sizes']: {exc}") from None
    doc = ast.get_docstring(tree) or ""
    return Finding(path, doc.strip().splitlines()[0] if doc.strip() else path.stem, doc_sections(doc),
                   _names(spec["families"], "families", path), hparams, budget,
                   _names(spec.get("extra_optimizers", []), "extra_optimizers", path), sizes)


def doc_sections(doc: str) -> dict[str, str]:
    """The docstring's 'Source:', 'Direction reported:', ... sections, each joined into one line.

    A section starts at a line beginning with its name and a colon, and runs to the next such
    line or a blank line.
    """
    out: dict[str, str] = {}
    current: str | None = None
    for raw in doc.splitlines():
        line = raw.strip()
        head = HEAD.match(line)
        if head is not None:
            current = head.group(1)
            rest = line[head.end():].strip()
            out[current] = rest[1:].strip() if rest.startswith(":") else rest
        elif not line:
            current = None
        elif current is not None:
            out[current] = f"{out[current]} {line}".strip()
    return out


def ordered_optimizers(names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    return [n for n in ALGORITHMS if n in names] + sorted(n for n in names if n not in ALGORITHMS)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {value!r} to a zoo file")


def zoo_toml(finding: Finding, sizes: Sequence[str] | None, optimizers: Sequence[str], seeds: int) -> str:
    """The zoo file that runs this finding's grid: `sizes` given on the command line win over the
    file's own FINDINGS sizes, which win over the defaults."""
    lines = [f"# The findings grid of {finding.path.name} (written by `pytest-interp findings`).", "[grid]",
             f"families = {_toml_value(finding.families)}",
             f"sizes = {_toml_value(list(sizes or finding.sizes or DEFAULT_SIZES))}",
             f"optimizers = {_toml_value(ordered_optimizers([*optimizers, *finding.extra_optimizers]))}",
             f"seeds = {seeds}"]
    for algo, values in sorted(finding.hparams.items()):
        lines += ["", f"[hparams.{algo}]", *(f"{k} = {_toml_value(v)}" for k, v in sorted(values.items()))]
    if finding.budget:
        lines += ["", "[budget]", *(f"{k} = {_toml_value(v)}" for k, v in sorted(finding.budget.items()))]
    return "\n".join(lines) + "\n"
