"""The model under test: metadata, sites, one cached forward pass, interventions, control.

Every claim on a cell gets the same Subject, so a forward pass on the same inputs is
computed once (capturing every site) and reused by all claims that ask for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from ._errors import NonFiniteOutput, NotApplicable
from ._families import FAMILIES
from ._grid import Cell
from ._interventions import Edit
from ._sites import Depth, Site, SiteMap, pick, put
from ._tasks import Batch, Task


@dataclass
class Run:
    """Outputs of one forward pass and the activation at every site."""

    outputs: torch.Tensor
    activations: dict[Site, torch.Tensor]

    def __getitem__(self, site: Site) -> torch.Tensor:
        return self.activations[site]


@dataclass
class Counters:
    """Shared by all subjects of a session; reported in the results file's stats."""

    forward_passes: int = 0


def _digest(x: torch.Tensor) -> str:
    t = x.detach().cpu().contiguous()
    h = hashlib.sha1(str((tuple(t.shape), str(t.dtype))).encode())
    h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


class Subject:
    """What the `model` fixture yields (DESIGN.md section 5)."""

    def __init__(
        self,
        module: nn.Module,
        cell: Cell,
        task: Task,
        *,
        params: int,
        metrics: Mapping[str, Any],
        checkpoint_sha256: str | None,
        trained: bool = True,
        device: str = "cpu",
        counters: Counters | None = None,
        control_factory: Callable[[], "Subject"] | None = None,
        null_factory: Callable[[str], "Subject"] | None = None,
        sibling_factory: Callable[[int], "Subject"] | None = None,
        site_rules: Mapping[str, Any] | None = None,
    ) -> None:
        self.module = module.to(device).eval()
        self.cell = cell
        self.task = task
        self.params = params
        self.metrics = dict(metrics)
        self.checkpoint_sha256 = checkpoint_sha256
        self.trained = trained
        self.device = device
        self.counters = counters or Counters()
        self._sites = SiteMap(self.module, site_rules if site_rules is not None else FAMILIES.get(cell.family).sites)
        self._cache: dict[str, Run] = {}
        self._control_factory = control_factory
        self._control: Subject | None = None
        self._null_factory = null_factory
        self._sibling_factory = sibling_factory

    # metadata -------------------------------------------------------------
    family = property(lambda self: self.cell.family)
    size = property(lambda self: self.cell.size)
    optimizer = property(lambda self: self.cell.optimizer)
    seed = property(lambda self: self.cell.seed)

    def __repr__(self) -> str:
        state = "trained" if self.trained else "control"
        return f"<Subject {self.cell.key} params={self.params} {state}>"

    @property
    def data(self) -> Batch:
        """The task's held-out set: the default inputs of every measurement."""
        return self.task.test_set()

    # sites ----------------------------------------------------------------
    @property
    def roles(self) -> list[str]:
        return self._sites.roles

    def has(self, role: str) -> bool:
        return role in self._sites.rules

    def depth(self, role: str) -> int:
        """How many sites of this role there are (layers)."""
        return self._sites.count(role)

    def site(self, role: str, depth: Depth = None) -> Site:
        """`site("hidden", depth="middle")`; raises NotApplicable if the role is missing."""
        return self._sites.site(role, depth)

    def module_of(self, site: Site) -> tuple[nn.Module, int | None]:
        """The module whose output holds the site's activation, and the tuple element to read."""
        return self._sites.target(site)

    def sites(self, role: str | None = None) -> list[Site]:
        return [s for s in self._sites.all_sites() if role is None or s.role == role]

    # forward passes -------------------------------------------------------
    def run(self, inputs: torch.Tensor | None = None) -> Run:
        """One forward pass capturing every site, cached per inputs."""
        x = self.data.x if inputs is None else inputs
        key = f"{x.device}:{_digest(x)}"
        if key not in self._cache:
            acts: dict[Site, torch.Tensor] = {}
            out = self._forward(x, {site: self._capture(acts, site, *self._where(site)) for site in self._sites.all_sites()})
            _check_finite(out, self)
            # the model runs on --interp-device; what it returns lies where the inputs came from,
            # so a claim written against CPU tensors runs unchanged on a GPU
            self._cache[key] = Run(out.detach().to(x.device), {s: a.to(x.device) for s, a in acts.items()})
        return self._cache[key]

    @staticmethod
    def _capture(store: dict[Site, torch.Tensor], site: Site, element: int | None,
                 time_first: bool) -> Callable[..., None]:
        def hook(_mod: nn.Module, _inp: Any, out: Any) -> None:
            store[site] = pick(out, element, time_first).detach()

        return hook

    def activations(self, site: Site | str, depth: Depth = None, inputs: torch.Tensor | None = None) -> torch.Tensor:
        """The activation at a site (or role and depth) on `inputs` (default: the task's test set)."""
        s = site if isinstance(site, Site) else self.site(site, depth)
        return self.run(inputs).activations[s]

    def outputs(self, inputs: torch.Tensor | None = None) -> torch.Tensor:
        return self.run(inputs).outputs

    # interventions --------------------------------------------------------
    def intervene(self, edits: Mapping[Site, Edit], inputs: torch.Tensor | None = None) -> torch.Tensor:
        """Outputs with the given sites edited; mean-ablation uses the mean over `inputs`."""
        x = self.data.x if inputs is None else inputs
        clean = self.run(x) if any(e.kind == "mean" for e in edits.values()) else None
        hooks = {}
        for site, edit in edits.items():
            element, tf = self._where(site)
            ref = clean.activations[site].mean(0, keepdim=True) if clean is not None else None
            hooks[site] = self._editor(site, edit, element, ref, tf)
        return self._forward(x, hooks).detach().to(x.device)

    def _where(self, site: Site) -> tuple[int | None, bool]:
        """Which output element holds the site's activation, and whether it is time-first."""
        return self._sites.target(site)[1], self._sites.rule(site).time_first

    def _forward(self, x: torch.Tensor, hooks: Mapping[Site, Callable[..., Any]]) -> torch.Tensor:
        """One counted forward pass with these forward hooks on the sites' modules, removed afterwards."""
        handles = [self._sites.target(site)[0].register_forward_hook(hook) for site, hook in hooks.items()]
        try:
            with torch.no_grad():
                out = self.module(x.to(self.device))
        finally:
            for h in handles:
                h.remove()
        self.counters.forward_passes += 1
        return out

    @staticmethod
    def _editor(site: Site, edit: Edit, element: int | None, ref: torch.Tensor | None,
                time_first: bool) -> Callable[..., Any]:
        def hook(_mod: nn.Module, _inp: Any, out: Any) -> Any:
            act = pick(out, element, time_first)
            return put(out, element, edit.apply(act, site.role, ref), time_first)

        return hook

    # control --------------------------------------------------------------
    def control(self) -> "Subject":
        """The same architecture and seed at initialization, with the same sites."""
        if not self.trained:
            return self
        if self._control is None:
            if self._control_factory is None:
                raise NotApplicable("this subject has no untrained control")
            self._control = self._control_factory()
        return self._control


    def null_model(self, kind: str = "shuffled-labels") -> "Subject":
        """A null to measure beside the claim: the same cell trained on shuffled labels.

        Trained (or loaded) on first use like any cell; raises NotApplicable where the task
        has no single label per input.
        """
        if kind != "shuffled-labels":
            raise ValueError(f"unknown null model {kind!r}; available: 'shuffled-labels'")
        if self._null_factory is None:
            raise NotApplicable("this subject has no null models")
        return self._null_factory(kind)

    def sibling(self, seed: int) -> "Subject":
        """The same cell trained from another seed (initialization and data order).

        Trained (or loaded) on first use like any cell, and cached like it; the sibling at
        this subject's own seed is itself, and an untrained control's sibling is the sibling's
        control (so a claim across seeds re-run on the control compares two initializations).
        Raises NotApplicable for models not trained here (checkpoints, Hugging Face folders).
        """
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"seeds are non-negative integers, not {seed}")
        if seed == self.seed:
            return self
        if self._sibling_factory is None:
            raise NotApplicable("this subject has no siblings at other seeds")
        return self._sibling_factory(seed)


def _check_finite(out: torch.Tensor, subject: Subject) -> None:
    """NaN or inf outputs make every measurement meaningless: the claim's outcome is `error`, saying so."""
    if isinstance(out, torch.Tensor) and out.is_floating_point() and not bool(torch.isfinite(out).all()):
        rows = out.reshape(out.shape[0], -1) if out.dim() else out.reshape(1, 1)
        bad = int((~torch.isfinite(rows)).any(1).sum())
        state = "" if subject.trained else " (untrained control)"
        raise NonFiniteOutput(f"{subject.cell.key}{state} outputs NaN or inf on {bad} of {rows.shape[0]} inputs")


def require(subject: Subject, roles: Iterable[str]) -> None:
    """Raise NotApplicable naming the first role the subject lacks."""
    for role in roles:
        if not subject.has(role):
            raise NotApplicable(f"{subject.family} has no {role} site")
