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
    "Registrar": "extend", "ModuleFamily": "extend", "site_rules": "extend", "instrument": "extend",
    "Family": "families", "Algorithm": "algorithms", "Stepper": "algorithms",
    "TorchOptimizerStepper": "algorithms", "Task": "tasks", "InputSpec": "tasks", "Batch": "tasks",
    # claims
    "claim": "claimspec", "ClaimSpec": "claimspec",
    "check": "measure", "Measurement": "measure",
    "Subject": "subject",
    "Site": "sites", "ROLES": "sites",
    "Cell": "grid", "GridSpec": "grid",
    "NotApplicable": "errors", "Untrained": "errors", "ConfigError": "errors",
    "Edit": "interventions", "replace": "interventions", "zero": "interventions",
    "mean": "interventions", "add": "interventions",
    "logistic_probe": "instruments", "ridge_probe": "instruments",
    "PatchKey": "instruments", "patch_units": "instruments", "patching_sweep": "instruments",
    "ablation_sweep": "instruments", "IGResult": "instruments", "SiteModel": "instruments",
    "saliency": "instruments", "input_x_gradient": "instruments", "integrated_gradients": "instruments",
    "quadrature": "instruments", "guided_backprop": "instruments", "relu_modules": "instruments",
    "site_model": "instruments", "TunedLens": "instruments", "family_readout": "instruments",
    "subject_readout": "instruments",
    "kl_to_final": "instruments", "logit_lens": "instruments", "tuned_lens": "instruments",
    "linear_cka": "instruments", "hsic": "instruments", "hsic_unbiased": "instruments",
    "cka_matrix": "instruments", "layer_match_accuracy": "instruments", "Steering": "instruments",
    "mean_difference": "instruments", "random_direction": "instruments", "relative_norm": "instruments",
    "flip_rate": "instruments", "steering_effect": "instruments", "Fourier": "instruments",
    "Superposition": "instruments", "kurtosis": "instruments", "kurtosis_rms": "instruments",
    "random_rotation": "instruments", "rotate": "instruments", "fourier_concentration": "instruments",
    "superposition": "instruments", "repeated_tokens": "instruments", "prefix_matching": "instruments",
    "prefix_matching_score": "instruments", "copying_score": "instruments", "transformer_ov": "instruments",
    "HOLDS": "outcomes", "BREAKS": "outcomes", "NA": "outcomes", "UNTRAINED": "outcomes",
    "ERROR": "outcomes", "OUTCOMES": "outcomes",
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
