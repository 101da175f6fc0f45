"""Name -> implementation tables for families, learning algorithms and tasks.

One small class instead of module-level dicts so that extensions (issue: bring
your own model) register through one documented call and clashes are reported.
"""

from __future__ import annotations

from typing import Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownName(ValueError):
    """A spec string named something no registry knows."""


class Registry(Generic[T]):
    """A named table; `kind` words the error messages ("family", "task", ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}

    def register(self, name: str, item: T, origin: str = "pytest-interp") -> T:
        """Add `name`; a name already taken by something else is a clash, reported with both origins."""
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise ValueError(f"invalid {self.kind} name {name!r}: use letters, digits, '-', '_' or '.'")
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"{self.kind} {name!r} from {origin} clashes with the {self.kind} of that name "
                             f"from {self._origins[name]}")
        self._items[name] = item
        self._origins[name] = origin
        return item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)
        self._origins.pop(name, None)

    def origin(self, name: str) -> str:
        return self._origins[name]

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise UnknownName(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
