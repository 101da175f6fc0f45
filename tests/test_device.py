"""`--interp-device`: the model runs on the device, tensors come back where the claim's inputs were.

The CUDA tests skip without a GPU (CI has none); where one is, `python -m pytest tests/test_device.py`
checks that a claim written against CPU tensors runs unchanged on it and measures the same.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

import pytest_interp as interp
from pytest_interp._grid import Cell
from pytest_interp._instruments._common import following, module_device
from pytest_interp._instruments.heads import prefix_matching_score, repeated_tokens
from pytest_interp._instruments.lenses import family_readout
from pytest_interp._instruments.steering import random_direction
from pytest_interp._store import Store
from pytest_interp._zoo import Zoo

from interp_results import read_results

ROOT = Path(__file__).resolve().parents[1]
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_following_leaves_callables_and_same_device_models_alone() -> None:
    lin = nn.Linear(3, 2)
    x = torch.randn(4, 3)
    assert module_device(lin) == torch.device("cpu")
    assert module_device(nn.ReLU()) is None  # nothing to follow
    assert following(nn.ReLU()) is not None and torch.equal(following(lin)(x), lin(x))

    def fn(t: torch.Tensor) -> torch.Tensor:
        return t * 2

    assert following(fn) is fn


def test_following_moves_inputs_to_the_model_and_outputs_back() -> None:
    """On the meta device (no data, every machine has it): the model sees meta inputs, the caller CPU."""
    seen: list[torch.device] = []

    class Probe(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.ones(3, device="meta"))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(x.device)
            return torch.zeros(x.shape[0], device=x.device)

    with pytest.raises(NotImplementedError):  # meta -> cpu has no data to copy: the move back was tried
        following(Probe())(torch.ones(2, 3))
    assert seen == [torch.device("meta")]


def test_a_checkpoint_trained_on_a_gpu_says_so_in_the_results(tmp_path: Path) -> None:
    """Its weights differ from a CPU's in the last bits: the results' `training` shows where it was trained."""
    store = Store(tmp_path / "store")
    cell = Cell("mlp", "1k", "adam", "sparse-parity", 0)
    zoo = Zoo(store, budget={"steps": 20})
    assert "device" not in zoo.subject(cell).metrics  # trained here, on the CPU
    key = zoo.plan(cell).key
    ckpt = store.load(key)
    assert ckpt is not None and "device" not in ckpt.meta
    store.save(key, ckpt.tensors, {**ckpt.meta, "device": "cuda"})
    assert Zoo(store, budget={"steps": 20}).subject(cell).metrics["device"] == "cuda"


@pytest.fixture
def pair(tmp_path: Path) -> tuple[interp.Subject, interp.Subject]:
    """One trained cell measured on the CPU and on CUDA, from the same checkpoint."""
    store = Store(tmp_path / "store")
    cell = Cell("mlp", "1k", "adam", "digits", 0)
    on_cpu = Zoo(store).subject(cell)
    return on_cpu, Zoo(store, device="cuda").subject(cell)


@cuda
def test_a_subject_answers_on_the_inputs_device(pair: tuple[interp.Subject, interp.Subject]) -> None:
    on_cpu, on_gpu = pair
    x = on_cpu.data.x
    assert next(on_gpu.module.parameters()).is_cuda
    out = on_gpu.outputs(x)
    assert out.device.type == "cpu" and on_gpu.activations("hidden", inputs=x).device.type == "cpu"
    assert on_gpu.outputs(x.cuda()).is_cuda
    torch.testing.assert_close(out, on_cpu.outputs(x), atol=1e-4, rtol=1e-4)
    site = on_gpu.site("hidden")
    edited = on_gpu.intervene({site: interp.mean()}, inputs=x)
    assert edited.device.type == "cpu"
    torch.testing.assert_close(edited, on_cpu.intervene({site: interp.mean()}, inputs=x), atol=1e-4, rtol=1e-4)
    steer = torch.ones(on_cpu.activations(site).shape[-1])
    torch.testing.assert_close(on_gpu.intervene({site: interp.add(steer)}, inputs=x),
                               on_cpu.intervene({site: interp.add(steer)}, inputs=x), atol=1e-4, rtol=1e-4)


@cuda
def test_instruments_take_cpu_inputs_for_a_cuda_model(pair: tuple[interp.Subject, interp.Subject]) -> None:
    on_cpu, on_gpu = pair
    x, y = on_cpu.data.x[:64], on_cpu.data.y[:64]
    for attribute in (interp.saliency, interp.input_x_gradient, interp.guided_backprop):
        got = attribute(on_gpu.module, x, y)
        assert got.device.type == "cpu"
        torch.testing.assert_close(got, attribute(on_cpu.module, x, y), atol=1e-4, rtol=1e-3)
    ig = interp.integrated_gradients(on_gpu.module, x, y)
    torch.testing.assert_close(ig.attributions, interp.integrated_gradients(on_cpu.module, x, y).attributions,
                               atol=1e-4, rtol=1e-3)
    readout = family_readout(on_gpu.module, pool="none")
    h = on_cpu.activations("hidden", depth="last")
    assert readout(h).device.type == "cpu"
    acts = on_gpu.activations("hidden").cuda()  # a claim may hand CUDA tensors in, with CPU labels
    assert interp.logistic_probe(acts, on_cpu.data.y) == pytest.approx(
        interp.logistic_probe(acts.cpu(), on_cpu.data.y), abs=0.02)
    assert interp.ridge_probe(acts, on_cpu.data.y.double()) == pytest.approx(
        interp.ridge_probe(acts.cpu(), on_cpu.data.y.double()), abs=1e-6)
    v = torch.randn(8, device="cuda")
    assert random_direction(v).is_cuda
    torch.testing.assert_close(random_direction(v).cpu(), random_direction(v.cpu()))
    tokens = repeated_tokens(16, 6, 4)
    pattern = torch.softmax(torch.randn(4, 2, 12, 12), -1)
    torch.testing.assert_close(prefix_matching_score(pattern.cuda(), tokens).cpu(),
                               prefix_matching_score(pattern, tokens))
    a, b = on_gpu.activations("hidden").cuda(), on_cpu.activations("logits")
    assert interp.linear_cka(a, b.cuda(), debiased=True) == pytest.approx(interp.linear_cka(a.cpu(), b, debiased=True))


@cuda
def test_training_on_cuda_records_the_device(tmp_path: Path) -> None:
    zoo = Zoo(Store(tmp_path / "store"), device="cuda")
    cell = Cell("mlp", "1k", "es", "digits", 0)
    subject = zoo.subject(cell)
    assert subject.trained and next(subject.module.parameters()).is_cuda and subject.metrics["device"] == "cuda"
    ckpt = zoo.store.load(zoo.plan(cell).key)
    assert ckpt is not None and ckpt.meta["device"] == "cuda"
    assert all(t.device.type == "cpu" for t in ckpt.tensors.values())


@cuda
@pytest.mark.parametrize("name", ["adam", "lbfgs", "es", "shampoo"])
def test_a_cuda_run_resumes_on_cuda_to_the_same_weights(name: str, tmp_path: Path) -> None:
    from pytest_interp._resume import ResumeFile
    from pytest_interp._train import make_plan, train

    plan = make_plan(Cell("transformer", "1k", name, "sparse-parity", 0), {"population": 8} if name == "es" else None,
                     {"steps": 12, "eval_every": 5})
    whole, _ = train(plan, device="cuda")

    class StopAt7(ResumeFile):
        def save(self, tree: object) -> None:
            super().save(tree)
            if tree["loop"]["step"] >= 7:  # type: ignore[index]
                raise KeyboardInterrupt

    path = tmp_path / "cell.resume"
    with pytest.raises(KeyboardInterrupt):
        train(plan, device="cuda", resume=StopAt7(path, plan.key, every_s=0.0, device="cuda"))
    assert ResumeFile(path, plan.key, device="cpu").step() is None  # a CPU run would start over
    resumed, _ = train(plan, device="cuda", resume=ResumeFile(path, plan.key, device="cuda"))
    a, b = whole.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@cuda
def test_the_claim_library_measures_the_same_on_cuda(pytester: pytest.Pytester, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's main command (every claim file, the shipped default zoo: nothing trains), measured on
    the CPU and on CUDA: the same outcomes, the same numbers up to float rounding."""
    shutil.copytree(ROOT / "claims", pytester.path / "claims", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("PYTEST_INTERP_PREBUILT", str(ROOT / "fixtures" / "zoo"))
    monkeypatch.setenv("PYTEST_INTERP_STORE", str(tmp_path / "store"))
    cpu, gpu = tmp_path / "cpu.json", tmp_path / "gpu.json"
    pytester.runpytest_subprocess("claims", f"--interp-json={cpu}")
    pytester.runpytest_subprocess("claims", "--interp-device=cuda", f"--interp-json={gpu}")
    a, b = ({(r["claim"], r["variant"], r["cell"]): r for r in read_results(p)["results"]} for p in (cpu, gpu))
    assert a.keys() == b.keys() and len(a) > 100
    assert [k for k, r in b.items() if r["outcome"] == "error"] == []
    assert {k: r["outcome"] for k, r in b.items()} == {k: r["outcome"] for k, r in a.items()}
    for k, r in a.items():
        for m, n in zip(r["measurements"], b[k]["measurements"]):
            if isinstance(m.get("value"), float):
                assert n["value"] == pytest.approx(m["value"], rel=1e-2, abs=1e-2), (k, m["name"])
