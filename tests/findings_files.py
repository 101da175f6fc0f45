"""A small findings claim file, results rows and the CLI runner the findings tests share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

CLAIM = '''"""Parity is decodable.

Source: Someone et al. 2020 (arXiv 2001.00001).

Direction reported: deeper layers decode
the label better.

Measured here: it holds on mlp.
"""
import pytest_interp as interp

FINDINGS = {spec}


@interp.claim(task="sparse-parity", needs=["embed"])
def test_embedding(model):
    """Breaks: parity is not linear in the bits."""
    acc = interp.logistic_probe(model.activations("embed"), model.data.latents["parity"])
    interp.check("probe_accuracy", acc, ">=", 0.9)
'''


def write_claim(folder: Path, spec: str, name: str = "test_parity.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(CLAIM.format(spec=spec), encoding="utf-8")
    return path


def result(outcome: str, family: str = "mlp", size: str = "1k", optimizer: str = "adam", seed: int = 0,
           **extra: Any) -> dict[str, Any]:
    return {"claim": "claims/test_parity.py::test_embedding", "variant": None, "family": family, "size": size,
            "optimizer": optimizer, "seed": seed, "outcome": outcome, "task": "sparse-parity",
            "cell": f"{family}-{size}-{optimizer}-sparse-parity-s{seed}", "doc": "Breaks: parity.", **extra}



def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import sys; from pytest_interp._cli import main; sys.exit(main())", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)
