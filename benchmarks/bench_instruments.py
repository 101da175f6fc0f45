"""Times our instruments against the obvious alternatives, on one model in one run.

- integrated gradients: ours vs Captum's IntegratedGradients (same model, inputs, baseline,
  target, steps and Gauss-Legendre quadrature; both report the completeness gap);
- patching sweep: ours (batched, and one pass per unit) vs a plain forward-hook loop that
  patches one unit per forward pass.

Prints medians and the ratio ours / theirs (below 1: ours is faster). No assertions: timings
belong in docs/performance.md, never in tests.

    python benchmarks/bench_instruments.py [--size 10k] [--repeats 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import Any, Callable

import torch

from pytest_interp._grid import Cell
from pytest_interp._instruments import PatchKey, integrated_gradients, patch_units, patching_sweep, site_model
from pytest_interp._interventions import Edit
from pytest_interp._sites import Site, pick, put
from pytest_interp._subject import Subject
from pytest_interp._train import initialize, make_plan


def build(family: str, size: str) -> Callable[[], Subject]:
    """A factory of fresh Subjects (empty forward cache) around one untrained model."""
    cell = Cell(family, size, "adam", "sparse-parity", 0)
    plan = make_plan(cell)
    module = initialize(plan)
    return lambda: Subject(module, cell, plan.task, params=plan.params, metrics={}, checkpoint_sha256=None, trained=False)


def timed(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds of each function, run interleaved so that load from other processes
    (this is a shared 2-core machine) falls on all of them alike."""
    for fn in fns.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def metric(outputs: torch.Tensor) -> torch.Tensor:
    return (outputs[:, 1] - outputs[:, 0]).mean()


def hook_loop(subject: Subject, clean: torch.Tensor, corrupted: torch.Tensor) -> dict[PatchKey, float]:
    """The plain way: capture both runs with hooks, then one hooked forward pass per unit."""
    module, sites = subject.module, subject.sites()
    targets = {s: subject._sites.target(s) for s in sites}  # (module, tuple element) per site

    def capture(x: torch.Tensor) -> tuple[torch.Tensor, dict[Site, torch.Tensor]]:
        acts: dict[Site, torch.Tensor] = {}

        def saver(site: Site) -> Callable[..., None]:
            def hook(_m: Any, _i: Any, out: Any) -> None:
                acts[site] = pick(out, targets[site][1]).detach()

            return hook

        handles = [targets[s][0].register_forward_hook(saver(s)) for s in sites]
        with torch.no_grad():
            out = module(x)
        for h in handles:
            h.remove()
        return out, acts

    out_clean, good = capture(clean)
    out_bad, bad = capture(corrupted)
    m_clean, m_bad = float(metric(out_clean)), float(metric(out_bad))
    result = {}
    for site in sites:
        mod, element = targets[site]
        for key in patch_units(site, bad[site]):
            idx = Edit("zero", None, key.position, key.head).index(site.role, bad[site].ndim)  # same axes as ours

            def patch(_m: Any, _i: Any, out: Any, idx: Any = idx, site: Site = site, element: Any = element) -> Any:
                act = pick(out, element).clone()
                act[idx] = good[site][idx]
                return put(out, element, act)

            handle = mod.register_forward_hook(patch)
            with torch.no_grad():
                result[key] = (float(metric(module(corrupted))) - m_bad) / (m_clean - m_bad)
            handle.remove()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="transformer")
    parser.add_argument("--size", default="10k")
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning, module="captum")  # "set requires_grad for you"
    fresh = build(args.family, args.size)
    subject = fresh()
    x = subject.data.x[: args.examples]
    print(f"{subject!r}, {len(x)} examples, torch {torch.__version__}, {args.threads} thread(s)")
    rows: list[tuple[str, float, str, float | None]] = []

    model, act = site_model(subject, x)
    base = subject.activations("embed", inputs=1 - x)
    label = f"integrated gradients ({args.steps} GL steps)"
    ig_fns: dict[str, Callable[[], Any]] = {
        "ours": lambda: integrated_gradients(model, act, 1, baseline=base, steps=args.steps)}
    try:
        import captum
        from captum.attr import IntegratedGradients
    except ImportError:
        rows.append((label, timed(ig_fns, args.repeats)["ours"], "captum (not installed)", None))
    else:
        ig = IntegratedGradients(model)
        ig_fns["delta"] = lambda: ig.attribute(act, baselines=base, target=1, n_steps=args.steps,
                                               return_convergence_delta=True)
        ig_fns["plain"] = lambda: ig.attribute(act, baselines=base, target=1, n_steps=args.steps)
        t = timed(ig_fns, args.repeats)
        rows.append((label, t["ours"], f"captum {captum.__version__} with delta", t["delta"]))
        rows.append((label, t["ours"], f"captum {captum.__version__} no delta", t["plain"]))

    clean, corrupted = x, 1 - x
    ours_result = patching_sweep(fresh(), clean, corrupted, metric)
    reference = hook_loop(subject, clean, corrupted)
    worst = max(abs(ours_result[k] - reference[k]) for k in reference)
    assert ours_result.keys() == reference.keys() and worst < 1e-4, "the two sweeps disagree"
    units = len(ours_result)
    t = timed({
        "batched": lambda: patching_sweep(fresh(), clean, corrupted, metric),
        "single": lambda: patching_sweep(fresh(), clean, corrupted, metric, batched=False),
        "plain": lambda: hook_loop(subject, clean, corrupted),
    }, args.repeats)
    rows.append((f"patching sweep, batched ({units} units)", t["batched"], "plain forward-hook loop", t["plain"]))
    rows.append((f"patching sweep, one pass per unit ({units} units)", t["single"], "plain forward-hook loop", t["plain"]))

    width = max(len(r[0]) for r in rows) + 2
    print(f"{'ours':<{width}}{'seconds':>9}   {'theirs':<28}{'seconds':>9}  ratio ours/theirs")
    for name, ours, other, theirs in rows:
        shown = f"{theirs:9.4f}" if theirs is not None else f"{'-':>9}"
        ratio = f"{ours / theirs:6.2f}" if theirs else "     -"
        print(f"{name:<{width}}{ours:9.4f}   {other:<28}{shown}  {ratio}")


if __name__ == "__main__":
    main()
