"""pytest-interp: interpretability claims as regression tests across a grid of models.

This module is the public API that claim files and extensions may rely on
(docs/api.md); everything else is private. Names load lazily (PEP 562) so that
merely having the plugin installed does not import torch into every pytest run.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # extending: families, learning algorithms, tasks, instruments (docs/extending.md)
    "Registrar": "_extend", "ModuleFamily": "_extend", "site_rules": "_extend", "instrument": "_extend",
    "Family": "_families", "Algorithm": "_algorithms", "Stepper": "_algorithms",
    "TorchOptimizerStepper": "_algorithms", "Task": "_tasks", "InputSpec": "_tasks", "Batch": "_tasks",
    # claims
    "claim": "_claimspec", "ClaimSpec": "_claimspec",
    "check": "_measure", "Measurement": "_measure",
    "Subject": "_subject",
    "Site": "_sites", "ROLES": "_sites",
    "Cell": "_grid", "GridSpec": "_grid",
    "NotApplicable": "_errors", "Untrained": "_errors", "ConfigError": "_errors", "NonFiniteOutput": "_errors",
    "Edit": "_interventions", "replace": "_interventions", "zero": "_interventions",
    "mean": "_interventions", "add": "_interventions",
    "logistic_probe": "_instruments", "ridge_probe": "_instruments",
    "PatchKey": "_instruments", "patch_units": "_instruments", "patching_sweep": "_instruments",
    "ablation_sweep": "_instruments", "IGResult": "_instruments", "SiteModel": "_instruments",
    "saliency": "_instruments", "input_x_gradient": "_instruments", "integrated_gradients": "_instruments",
    "quadrature": "_instruments", "guided_backprop": "_instruments", "relu_modules": "_instruments",
    "site_model": "_instruments", "spearman": "_instruments", "fractional_ranks": "_instruments",
    "TunedLens": "_instruments", "family_readout": "_instruments",
    "subject_readout": "_instruments",
    "kl_to_final": "_instruments", "logit_lens": "_instruments", "tuned_lens": "_instruments",
    "linear_cka": "_instruments", "hsic": "_instruments", "hsic_unbiased": "_instruments",
    "cka_matrix": "_instruments", "layer_match_accuracy": "_instruments", "Steering": "_instruments",
    "mean_difference": "_instruments", "random_direction": "_instruments", "relative_norm": "_instruments",
    "flip_rate": "_instruments", "steering_effect": "_instruments", "Fourier": "_instruments",
    "Superposition": "_instruments", "kurtosis": "_instruments", "kurtosis_rms": "_instruments",
    "random_rotation": "_instruments", "rotate": "_instruments", "fourier_concentration": "_instruments",
    "superposition": "_instruments", "repeated_tokens": "_instruments", "prefix_matching": "_instruments",
    "prefix_matching_score": "_instruments", "copying_score": "_instruments", "transformer_ov": "_instruments",
    "HOLDS": "_outcomes", "BREAKS": "_outcomes", "NA": "_outcomes", "UNTRAINED": "_outcomes",
    "ERROR": "_outcomes", "OUTCOMES": "_outcomes",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_interp' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
