"""Activation patching: which sites, heads and positions carry what separates two inputs.

For each unit u (a whole site, one head of it, or one position of it) the corrupted run is
repeated with u's activation replaced by the clean run's, and the effect is reported as
the fraction of the metric gap restored (Meng et al. 2022; Wang et al. 2022):

    restored(u) = (m(patched_u) - m(corrupted)) / (m(clean) - m(corrupted))

1 means u alone carries the difference; 0 means it carries none of it. Ablation sweeps
report m(ablated_u) - m(clean) for zero- or mean-ablation of each unit.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

import torch

from .._interventions import HEAD_AXIS, POSITION_AXIS, Edit, replace
from .._sites import Site

Metric = Callable[[torch.Tensor], Any]
UNITS = ("site", "head", "position")


class PatchKey(NamedTuple):
    """One patched unit: a site, optionally restricted to one head or one position."""

    site: Site
    head: int | None = None
    position: int | None = None


def _axis_size(table: dict[str, int], role: str, act: torch.Tensor) -> int:
    """Length of the head or position axis, 0 if the activation has none.

    An axis exists only if a feature axis follows it: an MLP's hidden site (batch, width)
    has no positions although its role lists axis 1.
    """
    axis = table.get(role)
    return act.shape[axis] if axis is not None and act.ndim >= axis + 2 else 0


def patch_units(site: Site, act: torch.Tensor, by: Iterable[str] = UNITS) -> list[PatchKey]:
    """The units of one site's activation: the whole site, then each head, then each position."""
    by = tuple(by)
    unknown = set(by) - set(UNITS)
    if unknown:
        raise ValueError(f"unknown patching unit(s) {sorted(unknown)}; use {', '.join(UNITS)}")
    keys = [PatchKey(site)] if "site" in by else []
    if "head" in by:
        keys += [PatchKey(site, head=h) for h in range(_axis_size(HEAD_AXIS, site.role, act))]
    if "position" in by:
        keys += [PatchKey(site, position=p) for p in range(_axis_size(POSITION_AXIS, site.role, act))]
    return keys


def _scalar(value: Any) -> float:
    return float(torch.as_tensor(value).detach().double().mean())


def _unit_outputs(
    subject: Any, site: Site, inputs: torch.Tensor, act: torch.Tensor, edits: dict[PatchKey, Edit],
    ref: torch.Tensor | None, batched: bool, max_rows: int,
) -> Iterator[tuple[PatchKey, torch.Tensor]]:
    """Outputs with each unit's edit applied, one unit at a time or many per forward pass.

    Batched: every unit's edited activation is computed up front (its Edit applied to
    `act`, the site's activation on `inputs`, which no edit at this site changes) and the
    whole stack replaces the site on `inputs` repeated once per unit.
    """
    n = inputs.shape[0]
    keys = list(edits)
    if not batched:
        for key in keys:
            yield key, subject.intervene({site: edits[key]}, inputs=inputs)
        return
    per_pass = max(1, max_rows // n)
    for start in range(0, len(keys), per_pass):
        group = keys[start : start + per_pass]
        value = torch.cat([edits[k].apply(act, site.role, ref) for k in group])
        repeated = inputs.repeat(len(group), *([1] * (inputs.ndim - 1)))
        outputs = subject.intervene({site: replace(value)}, inputs=repeated)
        yield from zip(group, outputs.split(n))


def patching_sweep(
    subject: Any, clean: torch.Tensor, corrupted: torch.Tensor, metric: Metric, *,
    sites: Sequence[Site] | None = None, by: Iterable[str] = UNITS, batched: bool = True, max_rows: int = 16_384,
) -> dict[PatchKey, float]:
    """Fraction of the clean-vs-corrupted metric gap restored by patching each unit.

    metric(outputs) -> scalar, on the outputs of one batch of `corrupted`'s size (rows in
    the same order). sites: default every site of the subject. batched: patch all units of
    a site in a few forward passes of up to `max_rows` rows (same numbers as one pass per
    unit through `interventions.replace(clean, position=, head=)`, far fewer passes).
    """
    if clean.shape != corrupted.shape:
        raise ValueError(f"clean {tuple(clean.shape)} and corrupted {tuple(corrupted.shape)} inputs differ in shape")
    clean_run, corrupt_run = subject.run(clean), subject.run(corrupted)
    m_clean, m_corrupt = _scalar(metric(clean_run.outputs)), _scalar(metric(corrupt_run.outputs))
    denom = m_clean - m_corrupt
    if abs(denom) <= 1e-12 * max(1.0, abs(m_clean)):
        raise ValueError("the metric is the same on clean and corrupted inputs: there is nothing to restore")
    out: dict[PatchKey, float] = {}
    for site in sites if sites is not None else subject.sites():
        good, bad = clean_run.activations[site], corrupt_run.activations[site]
        edits = {k: replace(good, position=k.position, head=k.head) for k in patch_units(site, bad, by)}
        for key, outputs in _unit_outputs(subject, site, corrupted, bad, edits, None, batched, max_rows):
            out[key] = (_scalar(metric(outputs)) - m_corrupt) / denom
    return out


def ablation_sweep(
    subject: Any, inputs: torch.Tensor, metric: Metric, *, kind: str = "mean",
    sites: Sequence[Site] | None = None, by: Iterable[str] = UNITS, batched: bool = True, max_rows: int = 16_384,
) -> dict[PatchKey, float]:
    """Change of the metric when each unit is ablated: m(ablated_u) - m(clean).

    kind: 'zero' (set to 0) or 'mean' (set to its mean over `inputs`, as Subject.intervene does).
    """
    if kind not in ("zero", "mean"):
        raise ValueError(f"ablation kind must be 'zero' or 'mean', not {kind!r}")
    run = subject.run(inputs)
    base = _scalar(metric(run.outputs))
    out: dict[PatchKey, float] = {}
    for site in sites if sites is not None else subject.sites():
        act = run.activations[site]
        edits = {k: Edit(kind, None, k.position, k.head) for k in patch_units(site, act, by)}
        ref = act.mean(0, keepdim=True)
        for key, outputs in _unit_outputs(subject, site, inputs, act, edits, ref, batched, max_rows):
            out[key] = _scalar(metric(outputs)) - base
    return out
