"""`attn-only-1l`: one attention block at every size, the rest exactly as `attn-only`."""

from __future__ import annotations

import pytest

from family_helpers import SPECS, make_subject
from pytest_interp._families import FAMILIES


@pytest.mark.parametrize("target", [1_000, 10_000, 100_000, 1_000_000])
def test_one_block_at_every_size(target: int) -> None:
    config, _ = FAMILIES.get("attn-only-1l").fit(target, SPECS["position"])
    assert config["depth"] == 1 and config["d_mlp"] == 0
    two, _ = FAMILIES.get("attn-only").fit(target, SPECS["position"])
    assert two["depth"] >= 2 and config["d"] > two["d"]  # the same budget in one block buys width


def test_sites_are_those_of_attn_only_with_one_layer() -> None:
    one, two = make_subject("attn-only-1l", "position"), make_subject("attn-only", "position")
    assert one.roles == two.roles
    assert len(one.sites("attn.pattern")) == 1 and len(two.sites("attn.pattern")) == 2
    assert one.activations("attn.pattern").shape[-2:] == (9, 9)
