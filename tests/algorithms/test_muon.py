"""Which parameters Muon gets: hidden weight matrices only; AdamW takes the rest."""

from __future__ import annotations

import pytest
import torch

from pytest_interp._algorithms import ALGORITHMS
from pytest_interp._algorithms.muon import split_hidden_matrices
from pytest_interp._grid import Cell
from pytest_interp._train import initialize, make_plan


def names(family: str) -> tuple[set[str], set[str]]:
    model = initialize(make_plan(Cell(family, "10k", "muon", "sparse-parity", 0)))
    by_id = {id(p): n for n, p in model.named_parameters()}
    muon, rest = split_hidden_matrices(model)
    assert len(muon) + len(rest) == len(by_id)
    return {by_id[id(p)] for p in muon}, {by_id[id(p)] for p in rest}


def test_mlp_hidden_layers_go_to_muon() -> None:
    muon, rest = names("mlp")
    assert muon == {f"layers.{i}.linear.weight" for i in range(3)}
    assert {"embed.table.weight", "head.weight", "head.bias", "layers.0.linear.bias"} <= rest


def test_transformer_attention_and_mlp_matrices_go_to_muon() -> None:
    muon, rest = names("transformer")
    assert "blocks.0.attn.qkv.weight" in muon and "blocks.1.mlp.fc_out.weight" in muon
    assert {"embed.pos", "embed.table.weight", "blocks.0.ln1.weight", "head.weight"} <= rest
    assert all(n.endswith(".weight") and n.startswith("blocks.") for n in muon)


def test_recurrent_matrices_go_to_muon_and_conv_kernels_do_not() -> None:
    muon, _ = names("lstm")
    assert "layers.0.rnn.weight_hh_l0" in muon and "layers.0.rnn.weight_ih_l0" in muon
    muon, rest = names("cnn")
    assert not muon and "blocks.0.conv.weight" in rest  # torch's Muon takes 2-D parameters only


def test_every_muon_parameter_is_a_matrix() -> None:
    model = initialize(make_plan(Cell("transformer", "10k", "muon", "sparse-parity", 0)))
    stepper = ALGORITHMS.get("muon").bind(model, ALGORITHMS.get("muon").hparams())
    assert all(p.ndim == 2 for p in stepper.optimizers[0].param_groups[0]["params"])  # type: ignore[attr-defined]
    assert isinstance(stepper.optimizers[1], torch.optim.AdamW)  # type: ignore[attr-defined]


@pytest.mark.parametrize("family", ["mlp", "transformer"])
def test_head_is_found(family: str) -> None:
    _, rest = names(family)
    assert "head.weight" in rest
