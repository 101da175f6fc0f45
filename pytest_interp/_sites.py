"""Roles and depths: one address for every architecture (DESIGN.md section 5).

A family declares, per role, the module path that produces the activation, with
`{i}` standing for the repeated block index (pyvene-style mapping). Claims ask for
`(role, depth)`; this module turns that into a module to hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Union

import torch
from torch import nn

from ._errors import NotApplicable

ROLES: tuple[str, ...] = ("embed", "hidden", "mlp", "attn.pattern", "attn.head", "conv.channel", "logits")

Depth = Union[int, str, None]


class HookPoint(nn.Identity):
    """An identity module placed where an activation has no module of its own (an attention pattern)."""


@dataclass(frozen=True)
class SiteRule:
    """Where a role lives in a module tree.

    path: dotted module path, `{i}` for the block index; repeat: the ModuleList whose
    length is the number of depths; element: index into a tuple output, if any;
    time_first: the output is (time, batch, ...), read per time step as (batch, time, ...).
    """

    path: str
    repeat: str | None = None
    element: int | None = None
    #: the module returns (time, batch, ...) (nn.LSTM without batch_first): read it batch-first
    time_first: bool = False


@dataclass(frozen=True, order=True)
class Site:
    """A resolved address: a role and a non-negative layer (None for single sites)."""

    role: str
    layer: int | None = None

    def __str__(self) -> str:
        return self.role if self.layer is None else f"{self.role}.{self.layer}"


def resolve_depth(depth: Depth, count: int, role: str) -> int:
    """`middle` is (count-1)//2 so it rounds toward the input; negative ints count from the end."""
    if count <= 0:
        raise NotApplicable(f"no {role} layers")
    if depth is None or depth == "last":
        return count - 1
    if depth == "first":
        return 0
    if depth == "middle":
        return (count - 1) // 2
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise ValueError(f"depth must be an int, 'first', 'middle' or 'last', not {depth!r}")
    index = depth + count if depth < 0 else depth
    if not 0 <= index < count:
        raise NotApplicable(f"{role} has {count} layers; depth {depth} is out of range")
    return index


def _get(module: nn.Module, path: str) -> nn.Module:
    return module.get_submodule(path) if path else module


class SiteMap:
    """The sites of one module instance, from its family's declared rules."""

    def __init__(self, module: nn.Module, rules: Mapping[str, SiteRule]) -> None:
        unknown = set(rules) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown role(s) {sorted(unknown)}; roles are {', '.join(ROLES)}")
        self.module = module
        self.rules = dict(rules)

    @property
    def roles(self) -> list[str]:
        return [r for r in ROLES if r in self.rules]

    def count(self, role: str) -> int:
        rule = self._rule(role)
        if rule.repeat is None:
            return 1
        return len(_get(self.module, rule.repeat))  # type: ignore[arg-type]

    def site(self, role: str, depth: Depth = None) -> Site:
        rule = self._rule(role)
        if rule.repeat is None:
            if depth not in (None, 0, -1, "last", "first", "middle"):
                raise NotApplicable(f"{role} has a single site; depth {depth!r} does not exist")
            return Site(role)
        return Site(role, resolve_depth(depth, self.count(role), role))

    def all_sites(self) -> list[Site]:
        out: list[Site] = []
        for role in self.roles:
            if self.rules[role].repeat is None:
                out.append(Site(role))
            else:
                out.extend(Site(role, i) for i in range(self.count(role)))
        return out

    def target(self, site: Site) -> tuple[nn.Module, int | None]:
        """The module whose output is the activation, and the tuple element to read."""
        rule = self._rule(site.role)
        path = rule.path.format(i=site.layer) if site.layer is not None else rule.path
        return _get(self.module, path), rule.element

    def rule(self, site: Site) -> SiteRule:
        return self._rule(site.role)

    def _rule(self, role: str) -> SiteRule:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        try:
            return self.rules[role]
        except KeyError:
            raise NotApplicable(f"this model has no {role} site") from None


def pick(output: object, element: int | None, time_first: bool = False) -> torch.Tensor:
    """Read the activation out of a module output (a tensor or a tuple), batch first."""
    value = output if element is None else output[element]  # type: ignore[index]
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"site output element {element} is a {type(value).__name__}, not a tensor")
    return value.transpose(0, 1) if time_first else value


def put(output: object, element: int | None, value: torch.Tensor, time_first: bool = False) -> object:
    """Write an activation back into a module output of the same form."""
    if time_first:
        value = value.transpose(0, 1)
    if element is None:
        return value
    items = list(output)  # type: ignore[call-overload]
    items[element] = value
    return type(output)(items) if isinstance(output, tuple) else items
