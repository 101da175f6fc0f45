"""The package type-checks: its hints are a contract for extension authors (docs/extending.md),
so a hint that drifts from the code fails here rather than in a user's editor."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_type_checks(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api", reason="mypy is in the [test] extra")
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                      "--cache-dir", str(tmp_path / "cache"), str(ROOT / "pytest_interp")])
    assert status == 0, stdout + stderr
