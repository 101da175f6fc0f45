"""Exceptions that carry an outcome: the plugin turns them into `n/a` or `untrained`."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad user input (spec string, option, zoo file): reported in one line, exit code 4."""


class NotApplicable(Exception):
    """The model lacks a site or capability the claim needs: outcome `n/a`, never a break."""


class NotStored(NotApplicable):
    """A stored-only run needs a cell the store lacks (a sibling or null the claim did not declare):
    it trains nothing, so the claim cannot be measured here: `n/a`, with this reason."""


class Untrained(Exception):
    """The cell missed its task's accuracy target: any claim on it would be vacuous."""


class NonFiniteOutput(RuntimeError):
    """The model outputs NaN or inf: any measurement on it is meaningless, so the outcome is `error`."""
