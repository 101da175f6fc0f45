"""Attributions against analytic answers, invariants of the model's state, and Captum."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pytest_interp._errors import NotApplicable
from pytest_interp._instruments import (
    guided_backprop, input_x_gradient, integrated_gradients, quadrature, relu_modules, saliency, site_model,
)
from pytest_interp._instruments.attribution import METHODS

from .helpers import make_subject


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def one_hidden_relu(d: int = 5, h: int = 7, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, 1)).double()


def analytic_ig(net: nn.Sequential, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Exact IG of v . relu(Wx + c): each unit is active on a sub-interval of the straight path."""
    w, c, v = net[0].weight, net[0].bias, net[2].weight[0]
    z0, z1 = b @ w.T + c, x @ w.T + c  # pre-activations at the path's ends, (n, h)
    cross = z0 / (z0 - z1)  # where a unit changes sign
    length = torch.where((z0 > 0) & (z1 > 0), 1.0, 0.0)
    length = torch.where((z0 <= 0) & (z1 > 0), 1 - cross, length)
    length = torch.where((z0 > 0) & (z1 <= 0), cross, length)
    return (x - b) * ((v * length) @ w)


# --- analytic cases --------------------------------------------------------------------------


def test_ig_on_a_piecewise_linear_network_matches_the_exact_integral() -> None:
    net = one_hidden_relu()
    x = torch.randn(16, 5, generator=_gen(1), dtype=torch.float64)
    b = torch.randn(16, 5, generator=_gen(2), dtype=torch.float64)
    exact = analytic_ig(net, x, b)
    with torch.no_grad():  # the exact answer is complete: it sums to f(x) - f(b)
        torch.testing.assert_close(exact.sum(1), (net(x) - net(b))[:, 0])
    result = integrated_gradients(net, x, baseline=b, steps=4000, method="riemann_middle")
    scale = exact.abs().max()
    assert (result.attributions - exact).abs().max() < 2e-3 * scale
    assert result.gap.abs().max() < 2e-3 * scale
    coarse = integrated_gradients(net, x, baseline=b, steps=4, method="riemann_left")
    assert (coarse.attributions - exact).abs().max() > 10 * (result.attributions - exact).abs().max()


class Cube(nn.Module):
    """f(x) = (w . x)^3: IG_i = x_i w_i (w . x)^2 from a zero baseline."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x @ self.w) ** 3


def test_gauss_legendre_is_exact_where_riemann_is_not() -> None:
    w = torch.randn(4, generator=_gen(3), dtype=torch.float64)
    x = torch.randn(6, 4, generator=_gen(4), dtype=torch.float64)
    exact = x * w * (x @ w)[:, None] ** 2
    gl = integrated_gradients(Cube(w), x, steps=2)  # the integrand is quadratic in alpha
    torch.testing.assert_close(gl.attributions, exact, atol=1e-12, rtol=1e-12)
    assert gl.gap.abs().max() < 1e-12
    mid = integrated_gradients(Cube(w), x, steps=2, method="riemann_middle")
    assert mid.gap.abs().max() > 1e-3


@pytest.mark.parametrize("method", METHODS)
def test_quadrature_rules(method: str) -> None:
    nodes, weights = quadrature(method, 7)
    assert nodes.min() >= 0 and nodes.max() <= 1
    assert float(weights.sum()) == pytest.approx(1.0, abs=1e-14)
    # int_0^1 (3a + 1) da = 2.5: exact except for one-sided Riemann sums, off by -+3/(2n)
    error = {"riemann_left": -3 / 14, "riemann_right": 3 / 14}.get(method, 0.0)
    assert float((weights * (3 * nodes + 1)).sum()) == pytest.approx(2.5 + error, abs=1e-12)


def test_quadrature_rejects_unknown_methods_and_too_few_steps() -> None:
    with pytest.raises(ValueError, match="unknown"):
        quadrature("simpson", 8)
    with pytest.raises(ValueError):
        quadrature("riemann_trapezoid", 1)


def test_saliency_and_input_x_gradient_of_a_linear_model() -> None:
    lin = nn.Linear(5, 3).double()
    x = torch.randn(4, 5, generator=_gen(5), dtype=torch.float64)
    w = lin.weight[2].detach()
    torch.testing.assert_close(saliency(lin, x, 2), w.abs().expand(4, 5))
    torch.testing.assert_close(saliency(lin, x, 2, absolute=False), w.expand(4, 5))
    torch.testing.assert_close(input_x_gradient(lin, x, 2), x * w)
    per_example = torch.tensor([0, 1, 2, 0])
    torch.testing.assert_close(saliency(lin, x, per_example, absolute=False), lin.weight.detach()[per_example])


def test_ig_of_a_linear_model_with_a_target_per_example() -> None:
    lin = nn.Linear(5, 3).double()
    x = torch.randn(6, 5, generator=_gen(13), dtype=torch.float64)
    b = torch.randn(6, 5, generator=_gen(14), dtype=torch.float64)
    targets = torch.tensor([2, 0, 1, 1, 0, 2])
    result = integrated_gradients(lin, x, targets, baseline=b, steps=3, method="riemann_left")
    torch.testing.assert_close(result.attributions, (x - b) * lin.weight.detach()[targets])
    assert result.gap.abs().max() < 1e-12


def test_a_model_with_several_outputs_needs_a_target() -> None:
    with pytest.raises(ValueError, match="target"):
        saliency(nn.Linear(3, 2), torch.randn(2, 3))


def test_guided_backprop_passes_only_positive_gradients_through_relus() -> None:
    net = one_hidden_relu(seed=3)
    x = torch.randn(10, 5, generator=_gen(6), dtype=torch.float64)
    w, c, v = net[0].weight.detach(), net[0].bias.detach(), net[2].weight.detach()[0]
    active = (x @ w.T + c > 0).double()
    expected = (active * v.clamp_min(0)) @ w
    assert (v < 0).any()  # otherwise guided backprop would equal the gradient
    torch.testing.assert_close(guided_backprop(net, x), expected)
    assert not torch.allclose(guided_backprop(net, x), saliency(net, x, absolute=False))
    assert all(not m._forward_hooks for m in relu_modules(net))  # hooks removed


class FunctionalRelu(nn.Module):
    """Declares an nn.ReLU but computes with F.relu: hooks on the module would never fire."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU()
        self.out = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.fc(x)))


class GRUNet(nn.Module):
    """A recurrent classifier with no ReLU; records every train(mode) call."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.rnn = nn.GRU(3, 8, batch_first=True)
        self.head = nn.Linear(8, 2)
        self.modes: list[bool] = []

    def train(self, mode: bool = True) -> "GRUNet":
        self.modes.append(mode)
        return super().train(mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def test_guided_backprop_is_not_applicable_without_hookable_relus(transformer: Any) -> None:
    with pytest.raises(NotApplicable, match="nn.ReLU"):
        guided_backprop(GRUNet().eval(), torch.randn(2, 5, 3), 0)
    with pytest.raises(NotApplicable, match="0 ran forward"):
        guided_backprop(FunctionalRelu(), torch.randn(3, 4))
    model, act = site_model(transformer, transformer.data.x[:4])  # GELU MLPs
    with pytest.raises(NotApplicable):
        guided_backprop(model, act, 1)


def test_recurrent_models_are_measured_in_eval_mode_and_never_trained() -> None:
    net = GRUNet().eval()
    net.modes.clear()
    x = torch.randn(6, 5, 3, generator=_gen(7))
    saliency(net, x, 1)
    input_x_gradient(net, x, 1)
    result = integrated_gradients(net, x, 1, steps=16)
    assert True not in net.modes and not net.training
    assert result.gap.abs().max() < 1e-4
    assert all(p.requires_grad for p in net.parameters())  # frozen only while measuring


@pytest.mark.parametrize("family", ["lstm", "gru"])
def test_recurrent_families_are_attributed_on_their_embedding(family: str) -> None:
    subject = make_subject(family, "1k")
    x = subject.data.x[:16]
    model, act = site_model(subject, x)
    baseline = subject.activations("embed", inputs=1 - x)
    result = integrated_gradients(model, act, 1, baseline=baseline, steps=16)
    assert result.gap.abs().max() < 1e-5 and result.attributions.abs().sum() > 0
    assert saliency(model, act, 1).abs().sum() > 0
    with pytest.raises(NotApplicable):  # tanh and sigmoid gates: nothing for guided backprop to hook
        guided_backprop(model, act, 1)
    assert not subject.module.training


def test_model_state_is_restored_and_dropout_is_off_while_measuring() -> None:
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 2)).train()
    net[0].weight.requires_grad_(False)
    x = torch.randn(5, 6, generator=_gen(8))
    first, second = saliency(net, x, 0), saliency(net, x, 0)
    torch.testing.assert_close(first, second)  # no dropout noise
    assert net.training and net[2].training
    assert not net[0].weight.requires_grad and net[0].bias.requires_grad


def test_token_models_are_attributed_on_their_embedding(transformer: Any) -> None:
    x = transformer.data.x[:16]
    model, act = site_model(transformer, x)
    with torch.no_grad():
        torch.testing.assert_close(model(act), transformer.outputs(x))
        torch.testing.assert_close(model(act.repeat(3, 1, 1)), transformer.outputs(x).repeat(3, 1))
    baseline = transformer.activations("embed", inputs=1 - x)  # a zero embedding sits on LayerNorm's spike
    result = integrated_gradients(model, act, 1, baseline=baseline, steps=16)
    assert result.attributions.shape == act.shape
    assert result.gap.abs().max() < 1e-4
    chunked = integrated_gradients(model, act, 1, baseline=baseline, steps=16, steps_per_pass=5)
    torch.testing.assert_close(chunked.attributions, result.attributions, atol=1e-5, rtol=1e-5)


# --- differential tests against Captum -------------------------------------------------------


def deep_relu_net() -> nn.Module:
    torch.manual_seed(2)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


#: Captum warns that it set requires_grad on our inputs and hooked ReLUs: expected, not news.
quiet_captum = pytest.mark.filterwarnings("ignore::UserWarning:captum")


@pytest.fixture(scope="module")
def captum_attr() -> Any:
    pytest.importorskip("captum")
    try:
        from captum import attr
    except ImportError as exc:  # installed, but a dependency of captum.attr is missing
        pytest.skip(f"captum.attr does not import: {exc}")
    return attr


def _close(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    torch.testing.assert_close(ours, theirs.to(ours.dtype), atol=1e-5, rtol=0)


@quiet_captum
@pytest.mark.parametrize("method", ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle"])
def test_integrated_gradients_equal_captum(captum_attr: Any, method: str) -> None:
    net = deep_relu_net()
    x = torch.randn(8, 6, generator=_gen(9))
    b = torch.randn(8, 6, generator=_gen(10))
    targets = torch.arange(8) % 3
    theirs, delta = captum_attr.IntegratedGradients(net).attribute(
        x, baselines=b, target=targets, n_steps=20, method=method, return_convergence_delta=True)
    ours = integrated_gradients(net, x, targets, baseline=b, steps=20, method=method)
    _close(ours.attributions, theirs)
    _close(ours.gap, delta)


@quiet_captum
def test_trapezoid_differs_from_captum_by_its_weight_sum(captum_attr: Any) -> None:
    """Captum weights n points 1/n with halved ends (sum (n-1)/n); the textbook rule 1/(n-1)."""
    net, n = deep_relu_net(), 20
    x = torch.randn(8, 6, generator=_gen(11))
    theirs = captum_attr.IntegratedGradients(net).attribute(x, target=0, n_steps=n, method="riemann_trapezoid")
    ours = integrated_gradients(net, x, 0, steps=n, method="riemann_trapezoid")
    _close(ours.attributions * (n - 1) / n, theirs)


@quiet_captum
def test_integrated_gradients_equal_captum_on_a_transformer_embedding(captum_attr: Any, transformer: Any) -> None:
    x = transformer.data.x[:8]
    model, act = site_model(transformer, x)
    targets = transformer.outputs(x).argmax(1)
    theirs = captum_attr.IntegratedGradients(model).attribute(act, target=targets, n_steps=16)
    _close(integrated_gradients(model, act, targets, steps=16).attributions, theirs)
    _close(saliency(model, act, targets), captum_attr.Saliency(model).attribute(act, target=targets))


@quiet_captum
def test_gradient_methods_equal_captum(captum_attr: Any) -> None:
    net = deep_relu_net()
    x = torch.randn(12, 6, generator=_gen(12))
    targets = torch.arange(12) % 3
    _close(saliency(net, x, targets), captum_attr.Saliency(net).attribute(x, target=targets))
    _close(saliency(net, x, 1, absolute=False), captum_attr.Saliency(net).attribute(x, target=1, abs=False))
    _close(input_x_gradient(net, x, targets), captum_attr.InputXGradient(net).attribute(x, target=targets))
    _close(guided_backprop(net, x, targets), captum_attr.GuidedBackprop(net).attribute(x, target=targets))
