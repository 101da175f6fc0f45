"""Bring your own model, task and learning algorithm: site mappings, hooks, entry points, the example."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from interp_results import read_results
from pytest_interp._errors import ConfigError
from pytest_interp._extend import ModuleFamily, Registrar, site_rules
from pytest_interp._families import FAMILIES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "other-lab"

pytestmark = pytest.mark.usefixtures("store_env")


def copy_probe_claims(dest: Path) -> None:
    """Our sparse-parity probe claims (the other findings train on other tasks; tests/claims/ covers them)."""
    (dest / "claims").mkdir()
    for name in ("test_linear_probe.py", "test_embedding_probe.py"):
        shutil.copy(ROOT / "claims" / name, dest / "claims" / name)


def test_site_mapping_validation() -> None:
    rules = site_rules({"hidden": "encoder.layers.{i}", "logits": {"path": "head", "element": 0},
                        "embed": {"path": "rnn", "element": 0, "time_first": True}})
    assert rules["hidden"].repeat == "encoder.layers" and rules["logits"].element == 0
    assert rules["embed"].time_first
    for bad in ({"hiddn": "x"}, {"hidden": "a..b"}, {"hidden": "a.{i}.b.{i}"}, {"hidden": {"path": "x", "el": 1}},
                {"hidden": "../x"}, {"hidden": {"path": "x", "element": -1}}):
        with pytest.raises(ConfigError):
            site_rules(bad)


def test_any_torch_module_with_a_time_first_recurrent_site() -> None:
    """A plain nn.LSTM (time-first output) read per time step through the mapping."""
    from pytest_interp._grid import Cell
    from pytest_interp._subject import Subject
    from pytest_interp._tasks import make_task
    import pytest_interp as edit

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(2, 8)
            self.rnn = torch.nn.LSTM(8, 8)  # (time, batch, feature)
            self.head = torch.nn.Linear(8, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out, _ = self.rnn(self.embed(x).transpose(0, 1))
            return self.head(out[-1])

    torch.manual_seed(0)
    task = make_task("sparse-parity")
    rules = site_rules({"embed": "embed", "hidden": {"path": "rnn", "element": 0, "time_first": True},
                        "logits": "head"})
    s = Subject(Net(), Cell("net", "1k", "adam", "sparse-parity", 0), task, params=1, metrics={},
                checkpoint_sha256=None, site_rules=rules)
    hidden = s.activations("hidden", 0)
    assert hidden.shape == (len(task.test_set()), 10, 8)  # batch first, one state per time step
    site = s.site("hidden", 0)
    assert torch.equal(s.intervene({site: edit.replace(hidden)}), s.outputs())
    last_step_zeroed = s.intervene({site: edit.zero(position=9)})
    assert not torch.allclose(last_step_zeroed, s.outputs())
    assert torch.allclose(s.intervene({site: edit.zero(position=0)}), s.outputs())  # only the last step is read


def test_registrar_reports_clashes_and_undoes() -> None:
    reg = Registrar("test")
    fam = ModuleFamily("tmpfam", lambda spec: torch.nn.Linear(1, 1), {"logits": "head"})
    with pytest.raises(ConfigError, match="clashes with the family of that name from pytest-interp"):
        reg.family(ModuleFamily("mlp", lambda spec: torch.nn.Linear(1, 1), {"logits": "x"}))
    reg.family(fam)
    assert "tmpfam" in FAMILIES
    reg.undo()
    assert "tmpfam" not in FAMILIES


CONFTEST = '''
import torch
from torch import nn

class Bag(nn.Module):
    """Sums token embeddings: an architecture with no depth and no attention."""
    def __init__(self, spec, width):
        super().__init__()
        self.embed = nn.Embedding(spec.vocab, width)
        self.mix = nn.Sequential(nn.Linear(spec.shape[0] * width, width), nn.ReLU())
        self.head = nn.Linear(width, spec.n_classes)
    def forward(self, x):
        return self.head(self.mix(self.embed(x).flatten(1)))

def pytest_interp_register(registrar):
    registrar.family("bag", lambda spec, width: Bag(spec, width),
                     sites={"embed": "embed", "hidden": "mix", "logits": "head"},
                     modalities=["tokens"], widths=[8, 16, 32, 64])
'''


def test_conftest_hook_registers_a_family(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    copy_probe_claims(pytester.path)
    pytester.makepyfile(test_heads='''
import pytest_interp as interp

@interp.claim(needs=["attn.head"])
def test_needs_heads(model):
    raise AssertionError("never runs")
''')
    out = pytester.path / "r.json"
    result = pytester.runpytest("claims", "test_heads.py", "--interp-models=bag", "--interp-sizes=1k",
                                "--interp-optimizers=adam", f"--interp-json={out}")
    outcomes = {r["claim"].split("::")[1]: r["outcome"] for r in read_results(out)["results"]}
    assert outcomes == {"test_parity_is_linearly_decodable_at_the_middle_hidden_site": "holds",
                        "test_parity_is_linearly_decodable_from_the_embedding": "breaks",
                        "test_needs_heads": "n/a"}
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    assert "bag" not in FAMILIES, "a conftest's registrations end with its run"


def test_a_name_clash_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.replace('registrar.family("bag"', 'registrar.family("mlp"'))
    pytester.makepyfile(test_x="def test_x(model):\n    pass\n")
    result = pytester.runpytest("--interp-models=mlp")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "family 'mlp' from conftest.py clashes with the family of that name from pytest-interp" in \
        result.stderr.str()


def test_example_folder_our_claims_on_their_model_and_their_claim_on_our_zoo(pytester: pytest.Pytester) -> None:
    copy_probe_claims(pytester.path)
    shutil.copytree(EXAMPLE, pytester.path / "other-lab")
    out = pytester.path / "a.json"
    pytester.runpytest("claims", "--interp-models=other-lab/zoo.toml", "--interp-sizes=1k", f"--interp-json={out}")
    ours_on_theirs = read_results(out)["results"]
    assert {r["family"] for r in ours_on_theirs} == {"mixer"}
    assert all(r["outcome"] in ("holds", "breaks") for r in ours_on_theirs), ours_on_theirs
    out = pytester.path / "b.json"
    pytester.runpytest("other-lab/test_their_claim.py", "--interp-models=mlp,transformer", "--interp-sizes=1k",
                       "--interp-optimizers=adam", f"--interp-json={out}")
    theirs_on_ours = read_results(out)["results"]
    assert {r["family"] for r in theirs_on_ours} == {"mlp", "transformer"}
    assert all(r["outcome"] in ("holds", "breaks") for r in theirs_on_ours), theirs_on_ours


def test_zoo_file_module_must_stay_in_its_folder(pytester: pytest.Pytester, tmp_path: Path) -> None:
    (tmp_path / "evil.py").write_text("def build(spec):\n    raise SystemExit\n")
    pytester.makepyfile(test_x="def test_x(model):\n    pass\n")
    pytester.path.joinpath("zoo.toml").write_text(textwrap.dedent(f'''
        [[family]]
        name = "evil"
        build = "../{tmp_path.name}/evil.py:build"
        sites = {{logits = "head"}}
        [grid]
        families = ["evil"]
    '''))
    result = pytester.runpytest("--interp-models=zoo.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "must be a .py file inside" in result.stderr.str()


PLUGIN_SETUP = '''
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "interp-tinyplugin"
version = "0.1"

[project.entry-points.pytest_interp]
tiny = "interp_tinyplugin:register"
'''

PLUGIN_CODE = '''
import torch
from torch import nn
from pytest_interp._algorithms import Algorithm, TorchOptimizerStepper


class Wide(nn.Module):
    def __init__(self, spec, width):
        super().__init__()
        self.embed = nn.Embedding(spec.vocab, 4)
        self.hidden = nn.Sequential(nn.Linear(spec.shape[0] * 4, width), nn.Tanh())
        self.head = nn.Linear(width, spec.n_classes)

    def forward(self, x):
        return self.head(self.hidden(self.embed(x).flatten(1)))


class RMSprop(Algorithm):
    name = "rmsprop"
    defaults = {"lr": 3e-3}

    def bind(self, model, hparams):
        return TorchOptimizerStepper(model, torch.optim.RMSprop(model.parameters(), lr=hparams["lr"]), 1.0)


def register(registrar):
    registrar.family("tanhnet", lambda spec, width: Wide(spec, width),
                     sites={"embed": "embed", "hidden": "hidden", "logits": "head"},
                     modalities=["tokens"], widths=list(range(4, 200, 4)))
    registrar.algorithm(RMSprop())
'''


def test_an_installed_plugin_package_registers_a_family_and_an_algorithm(
        pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, target = tmp_path / "src", tmp_path / "site"
    (src / "interp_tinyplugin").mkdir(parents=True)
    (src / "pyproject.toml").write_text(PLUGIN_SETUP)
    (src / "interp_tinyplugin" / "__init__.py").write_text(PLUGIN_CODE)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(src)], check=True, capture_output=True)
    monkeypatch.setenv("PYTHONPATH", str(target))
    copy_probe_claims(pytester.path)
    out = pytester.path / "r.json"
    result = pytester.runpytest_subprocess("claims/test_linear_probe.py", "--interp-models=tanhnet,mlp",
                                           "--interp-sizes=1k", "--interp-optimizers=rmsprop",
                                           f"--interp-json={out}")
    results = read_results(out)["results"]
    assert {(r["family"], r["optimizer"]) for r in results} == {("tanhnet", "rmsprop"), ("mlp", "rmsprop")}
    assert all(r["outcome"] in ("holds", "breaks") for r in results), results
    assert result.ret in (0, 1)


def test_public_api_page_is_current() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_api", ROOT / "docs" / "make_api.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert page == module.render(), "run `python docs/make_api.py`"
    import pytest_interp

    missing = [name for name in pytest_interp.__all__ if name != "__version__" and f"- `{name}`" not in page]
    assert missing == [], f"public names the page does not list (add their module to TITLES): {missing}"


def test_every_public_name_resolves() -> None:
    import pytest_interp

    for name in pytest_interp.__all__:
        assert getattr(pytest_interp, name) is not None
    with pytest.raises(AttributeError):
        pytest_interp.not_a_name  # noqa: B018


def test_everything_but_the_public_api_is_named_private() -> None:
    """Only `__init__` and `strategies` are public modules; every other name in the package starts with `_`."""
    package = ROOT / "pytest_interp"
    public = {"__init__.py", "strategies.py", "py.typed", "__pycache__"}
    exposed = sorted(p.name for p in package.iterdir() if p.name not in public and not p.name.startswith("_"))
    assert exposed == [], f"rename to a leading underscore or export from __init__: {exposed}"
    claim_imports = {line.strip() for path in (ROOT / "claims").glob("*.py")
                     for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip().startswith(("import pytest_interp", "from pytest_interp"))}
    assert all("._" not in line and " _" not in line for line in claim_imports), claim_imports
