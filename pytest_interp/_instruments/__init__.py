"""Instruments: the measurements claims are made of. Each works on tensors from any site."""

from __future__ import annotations

from .attribution import (
    IGResult, SiteModel, guided_backprop, input_x_gradient, integrated_gradients, quadrature, relu_modules,
    saliency, site_model,
)
from .heads import copying_score, prefix_matching, prefix_matching_score, repeated_tokens, transformer_ov
from .lenses import TunedLens, family_readout, kl_to_final, logit_lens, subject_readout, tuned_lens
from .patching import PatchKey, ablation_sweep, patch_units, patching_sweep
from .probes import logistic_probe, ridge_probe
from .ranks import fractional_ranks, spearman
from .similarity import cka_matrix, hsic, hsic_unbiased, layer_match_accuracy, linear_cka
from .steering import Steering, flip_rate, mean_difference, random_direction, relative_norm, steering_effect
from .structure import (
    Fourier, Superposition, fourier_concentration, kurtosis, kurtosis_rms, random_rotation, rotate, superposition,
)

__all__ = [
    # probes
    "logistic_probe", "ridge_probe",
    # patching and ablation
    "PatchKey", "patch_units", "patching_sweep", "ablation_sweep",
    # attributions
    "IGResult", "SiteModel", "saliency", "input_x_gradient", "integrated_gradients", "quadrature",
    "guided_backprop", "relu_modules", "site_model",
    # rank correlation of maps
    "fractional_ranks", "spearman",
    # lenses
    "TunedLens", "family_readout", "subject_readout", "kl_to_final", "logit_lens", "tuned_lens",
    # representation similarity
    "linear_cka", "hsic", "hsic_unbiased", "cka_matrix", "layer_match_accuracy",
    # steering
    "Steering", "mean_difference", "random_direction", "relative_norm", "flip_rate", "steering_effect",
    # structure
    "Fourier", "Superposition", "kurtosis", "kurtosis_rms", "random_rotation", "rotate",
    "fourier_concentration", "superposition",
    # attention heads
    "repeated_tokens", "prefix_matching", "prefix_matching_score", "copying_score", "transformer_ov",
]
