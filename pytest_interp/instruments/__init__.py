"""Instruments: the measurements claims are made of. Each works on tensors from any site."""

from __future__ import annotations

from .probes import logistic_probe, ridge_probe

__all__ = ["logistic_probe", "ridge_probe"]
