"""Which (task, task options) a folder of claim files needs, read from their source without running them.

`pytest-interp zoo build --claims claims/` uses it to prebuild exactly the cells those claims will
ask for. Only literal arguments can be read; anything else is an error naming the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Iterable, Iterator

from ._errors import ConfigError
from ._tasks import DEFAULT_TASK

TaskKey = tuple[str, tuple[tuple[str, Any], ...]]
#: the families a task key's claims are restricted to; None: no restriction
Families = frozenset[str] | None


def _is_claim_call(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    if isinstance(f, ast.Name):
        return f.id == "claim"
    if isinstance(f, ast.Attribute):
        return f.attr == "claim" or (f.attr == "interp" and isinstance(f.value, ast.Attribute) and f.value.attr == "mark")
    return False


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def claim_tasks(paths: Iterable[Path]) -> list[TaskKey]:
    """Distinct (task, sorted options) pairs of the claims in these files, in first-seen order."""
    return list(claim_task_families(paths))


def claim_task_families(paths: Iterable[Path]) -> dict[TaskKey, Families]:
    """Each (task, sorted options) pair with the families its claims are restricted to (None: any)."""
    seen: dict[TaskKey, Families] = {}
    for key, fams, _ in _claims(paths):
        if key not in seen:
            seen[key] = fams
        else:
            before = seen[key]
            seen[key] = None if before is None or fams is None else before | fams
    return seen


def claim_task_siblings(paths: Iterable[Path]) -> dict[TaskKey, frozenset[int]]:
    """Each (task, sorted options) pair with the seed offsets its claims declare in `siblings`
    (the other seeds of a cell they compare with): a build of a file's grid trains those too."""
    seen: dict[TaskKey, frozenset[int]] = {}
    for key, _, siblings in _claims(paths):
        seen[key] = seen.get(key, frozenset()) | siblings
    return seen


def _claims(paths: Iterable[Path]) -> Iterator[tuple[TaskKey, Families, frozenset[int]]]:
    """(task key, families, sibling offsets) of every claim decorator in the files, read from source."""
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for deco in node.decorator_list:
                if not _is_claim_call(deco):
                    continue
                assert isinstance(deco, ast.Call)
                try:
                    kwargs = {k.arg: ast.literal_eval(k.value) for k in deco.keywords if k.arg is not None}
                    if deco.args:
                        kwargs.setdefault("task", ast.literal_eval(deco.args[0]))
                except ValueError:
                    raise ConfigError(f"{path}:{deco.lineno}: the claim's arguments must be literals "
                                      "to be read without running the file") from None
                if any(k.arg is None for k in deco.keywords):
                    raise ConfigError(f"{path}:{deco.lineno}: cannot read **options without running the file")
                task = kwargs.pop("task", DEFAULT_TASK)
                kwargs.pop("needs", None)
                siblings = kwargs.pop("siblings", None) or ()  # other seeds of the same cells, not a task option
                families = kwargs.pop("families", None)
                fams: Families = frozenset([families] if isinstance(families, str) else families) if families else None
                offsets = frozenset(int(k) for k in ([siblings] if isinstance(siblings, int) else siblings))
                yield (str(task), tuple(sorted((k, _hashable(v)) for k, v in kwargs.items()))), fams, offsets
