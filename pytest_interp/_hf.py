"""Hugging Face model folders as subjects: `[[hf]]` tables of a zoo file (DESIGN.md section 10).

`transformers` is an optional extra (`pip install pytest-interp[hf]`), imported only when a zoo
file lists a Hugging Face folder. Loading never touches the network or pickle: the config is
read from config.json, the model is built with `from_config`, and the weights come from the
folder's safetensors files, checked like any checkpoint (checkpoints.py). A folder with only
pickle weights (pytorch_model.bin) is refused with the command that converts it.

Sites come from a small declarative mapping per model type (in the style of pyvene's
per-architecture files): roles -> module paths of the transformers model. Attention runs
through an attention function of our own, registered with transformers' AttentionInterface,
which passes the pattern (batch, heads, query, key) and the per-head context before the
output projection (batch, position, heads, d_head) through HookPoints, so both can be read
and patched like any site. The subject's outputs are the MLM logits where the folder has an
MLM head (and then `logits` is a site), else the last hidden state (no `logits`: a sentence
encoder such as all-MiniLM-L6-v2 has no head to read).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ._checkpoints import Source, common
from ._safe_files import PICKLE_SUFFIXES, TensorInfo, compare, inside, read_header, refuse_pickle, state_infos
from ._errors import ConfigError
from ._sites import HookPoint, SiteRule
from ._tasks import Task

#: the name our attention function is registered under in transformers' AttentionInterface
ATTENTION = "pytest_interp_eager"
#: model type -> where each role lives; `attention` is the self-attention module whose
#: pattern and per-head context we expose; `lm_head` the MLM head, if the folder has one;
#: `position_offset` the position ids a model reserves (RoBERTa counts from padding_idx + 1).
MAPPINGS: dict[str, dict[str, Any]] = {
    "bert": {"embed": "embeddings", "hidden": "encoder.layer.{i}", "mlp": "encoder.layer.{i}.intermediate",
             "attention": "encoder.layer.{i}.attention.self", "lm_head": "cls", "position_offset": 0},
    "roberta": {"embed": "embeddings", "hidden": "encoder.layer.{i}", "mlp": "encoder.layer.{i}.intermediate",
                "attention": "encoder.layer.{i}.attention.self", "lm_head": "lm_head", "position_offset": 2},
}
INSTALL = "install the Hugging Face extra: pip install 'pytest-interp[hf]'"
_CONTROL_SEED = 12_345
_FLOATS = {"F64", "F32", "F16", "BF16"}


def transformers_module() -> Any:
    """transformers, imported on first need; a one-line usage error when the extra is missing."""
    try:
        import transformers
    except ImportError:
        raise ConfigError(f"the zoo file lists Hugging Face models ([[hf]]) but transformers is missing: {INSTALL}") \
            from None
    if not hasattr(transformers, "AttentionInterface"):
        raise ConfigError(f"transformers {transformers.__version__} is too old for [[hf]] models: {INSTALL}")
    transformers.AttentionInterface.register(ATTENTION, attention)
    return transformers


def attention(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
              attention_mask: torch.Tensor | None, scaling: float | None = None, dropout: float = 0.0,
              **_: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eager attention whose pattern and per-head context pass through the module's HookPoints."""
    if scaling is None:
        scaling = query.size(-1) ** -0.5
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        mask = attention_mask[..., : key.shape[-2]]
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    pattern = nn.functional.dropout(scores.softmax(-1), p=dropout, training=module.training)
    hook = getattr(module, "interp_pattern", None)
    if hook is not None:
        pattern = hook(pattern)  # (batch, heads, query, key)
    z = torch.matmul(pattern, value).transpose(1, 2).contiguous()
    hook = getattr(module, "interp_head", None)
    if hook is not None:
        z = hook(z)  # (batch, position, heads, d_head)
    return z, pattern


class HFModule(nn.Module):
    """A transformers encoder as a subject's module: token ids in, MLM logits or last hidden state out."""

    def __init__(self, model: nn.Module, mlm: bool) -> None:
        super().__init__()
        self.model = model
        self.mlm = mlm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(input_ids=x, attention_mask=torch.ones_like(x))
        return out.logits if self.mlm else out.last_hidden_state


def package_root(name: Any, where: str) -> Path:
    """The folder of an installed top-level package, found without importing (running) it."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ConfigError(f"{where}: package must be the import name of an installed top-level package")
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"{where}: the Python package {name!r} that holds the model folder is not installed "
                          f"(for all-MiniLM-L6-v2: {INSTALL})")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def weight_files(folder: Path, root: Path, shown: str, where: str) -> list[Path]:
    """model.safetensors, or the shards a model.safetensors.index.json names; pickle weights are refused."""
    index = folder / "model.safetensors.index.json"
    if (folder / "model.safetensors").exists():
        files = [folder / "model.safetensors"]
    elif index.exists():
        try:
            names = sorted(set(json.loads(inside(root, str(index), where).read_text(encoding="utf-8"))["weight_map"]
                               .values()))
        except (ValueError, KeyError, TypeError, AttributeError, OSError):
            raise ConfigError(f"{where}: {shown}/model.safetensors.index.json is malformed") from None
        files = [folder / n for n in names]
    else:
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
        if pickles:
            refuse_pickle(folder / pickles[0], f"{shown}/{pickles[0]}", where)
        raise ConfigError(f"{where}: {shown} has no model.safetensors")
    out = []
    for f in files:
        target = inside(root, str(f), f"{where}: weights")
        if target.suffix != ".safetensors" or not target.is_file():
            raise ConfigError(f"{where}: weights file {f.name} is missing or not .safetensors")
        out.append(target)
    return out


class HFSource(Source):
    """A Hugging Face model folder (config.json + safetensors), checked at configure time."""

    kind = "hf"

    def __init__(self, name: str, folder: Path, shown: str, files: list[Path], config: dict[str, Any], task: Task,
                 family: str, optimizer: str, seed: int, options: Mapping[str, Any], where: str) -> None:
        super().__init__(name, family, optimizer, seed, task, options, shown)
        self.folder, self.files, self.config = folder, files, dict(config)
        self.model_type = str(config.get("model_type"))
        if self.model_type not in MAPPINGS:
            raise ConfigError(f"{where}: model type {self.model_type!r} is not supported (supported: "
                              f"{', '.join(sorted(MAPPINGS))})")
        self.mapping = MAPPINGS[self.model_type]
        header: dict[str, TensorInfo] = {}
        for f in files:
            header.update(read_header(f, f"{shown}/{f.name}", where))
        self.mlm = any(k.startswith(self.mapping["lm_head"] + ".") for k in header)
        spec = task.spec
        if spec.modality != "tokens":
            raise ConfigError(f"{where}: a {self.model_type} model reads token ids; task {task.name} gives "
                              f"{spec.modality}")
        sizes: list[Any] = [config.get("vocab_size"), config.get("max_position_embeddings")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sizes):
            raise ConfigError(f"{where}: {shown}/config.json needs vocab_size and max_position_embeddings "
                              "(positive integers)")
        vocab, positions = int(sizes[0]), int(sizes[1]) - int(self.mapping["position_offset"])
        if spec.vocab > vocab or spec.shape[0] > positions:
            raise ConfigError(f"{where}: task {task.name} uses token ids below {spec.vocab} in sequences of "
                              f"{spec.shape[0]}; the model has {vocab} tokens and {positions} positions")
        try:
            with torch.device("meta"):
                model = self._build_model()
        except ConfigError:
            raise
        except Exception as exc:  # transformers' own complaint about the config, in one line
            first = (str(exc).strip().splitlines() or [""])[0]
            raise ConfigError(f"{where}: {shown}/config.json does not build a {self.model_type}: "
                              f"{type(exc).__name__}: {first}") from None
        expected = state_infos(model)
        self._params = sum(p.numel() for p in model.parameters())
        self._prefix = getattr(model, "base_model_prefix", "")
        self._keys = self._key_map(expected, header)
        tied = {n for n, _ in model.named_parameters(remove_duplicate=False)} - {n for n, _ in model.named_parameters()}
        found = {e: self._fit_dtype(expected[e], header[f]) for e, f in self._keys.items()}
        compare(expected, found, f"{where}: {shown}", f"a {self.model_type} with {shown}/config.json",
                optional=frozenset(tied), allow_extra=True)

    # building ----------------------------------------------------------------
    def _build_model(self) -> nn.Module:
        transformers = transformers_module()
        # never remote code (auto_map), always float32 (a config's dtype is the file's, not ours)
        skip = {"model_type", "auto_map", "torch_dtype", "dtype"}
        cfg = transformers.AutoConfig.for_model(self.model_type, **{k: v for k, v in self.config.items()
                                                                   if k not in skip})
        auto = transformers.AutoModelForMaskedLM if self.mlm else transformers.AutoModel
        return auto.from_config(cfg, attn_implementation=ATTENTION, trust_remote_code=False)

    def _key_map(self, expected: Mapping[str, TensorInfo], header: Mapping[str, TensorInfo]) -> dict[str, str]:
        """Model key -> file key, allowing files saved with or without the base model's prefix ('bert.')."""
        out = {}
        pre = f"{self._prefix}." if self._prefix else ""
        for e in expected:
            for f in (e, pre + e, e[len(pre):] if pre and e.startswith(pre) else None):
                if f is not None and f in header:
                    out[e] = f
                    break
        return out

    @staticmethod
    def _fit_dtype(want: TensorInfo, got: TensorInfo) -> TensorInfo:
        """Half-precision weights load into the float32 model: float is float here."""
        if want.dtype in _FLOATS and got.dtype in _FLOATS:
            return TensorInfo(want.dtype, got.shape)
        return got

    def _wrap(self, model: nn.Module) -> tuple[HFModule, dict[str, SiteRule]]:
        """Add the attention HookPoints, and the site rules (paths below HFModule, whose `model` is the HF model)."""
        inner = f"{self._prefix}." if self.mlm and self._prefix else ""  # BertForMaskedLM keeps BertModel in .bert
        m = self.mapping
        layers = inner + m["hidden"].split(".{i}")[0]
        for i in range(len(model.get_submodule(layers))):  # type: ignore[arg-type]
            attn = model.get_submodule(inner + m["attention"].format(i=i))
            attn.add_module("interp_pattern", HookPoint())
            attn.add_module("interp_head", HookPoint())
        at = "model." + inner
        rules = {
            "embed": SiteRule(at + m["embed"]),
            "hidden": SiteRule(at + m["hidden"], repeat="model." + layers),
            "mlp": SiteRule(at + m["mlp"], repeat="model." + layers),
            "attn.pattern": SiteRule(at + m["attention"] + ".interp_pattern", repeat="model." + layers),
            "attn.head": SiteRule(at + m["attention"] + ".interp_head", repeat="model." + layers),
        }
        if self.mlm:
            rules["logits"] = SiteRule("model." + m["lm_head"])
        module = HFModule(model, self.mlm)
        return module, self._probe(module, rules)

    def _probe(self, module: HFModule, rules: dict[str, SiteRule]) -> dict[str, SiteRule]:
        """One tiny forward pass: our attention must run, and tuple outputs get their element set."""
        kinds: dict[str, bool] = {}
        handles = []
        for role, rule in rules.items():
            path = rule.path.format(i=0)
            sub = module.get_submodule(path)
            handles.append(sub.register_forward_hook(
                lambda _m, _i, out, role=role: kinds.__setitem__(role, isinstance(out, tuple))))
        try:
            with torch.no_grad():
                module.eval()(torch.full((1, 2), self.task.spec.vocab - 1, dtype=torch.long))
        finally:
            for h in handles:
                h.remove()
        if "attn.pattern" not in kinds:
            import transformers

            raise ConfigError(f"transformers {transformers.__version__} does not run {self.model_type} attention "
                              f"through AttentionInterface, so its attention sites cannot be read: {INSTALL} "
                              "(transformers>=5)")
        return {role: SiteRule(r.path, r.repeat, 0 if kinds.get(role) else None) for role, r in rules.items()}

    def _seeded(self) -> nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(1_000_003 * self.seed + _CONTROL_SEED)
            return self._build_model()

    # Source ------------------------------------------------------------------
    @property
    def params(self) -> int:
        return self._params

    @property
    def roles(self) -> tuple[str, ...]:
        return ("embed", "hidden", "mlp", "attn.pattern", "attn.head") + (("logits",) if self.mlm else ())

    def unsupported(self, spec: Any) -> str | None:
        return None if spec.modality == "tokens" else f"{self.name} reads token ids, not {spec.modality}"

    def load(self) -> tuple[nn.Module, dict[str, SiteRule], str]:
        from safetensors.torch import load_file

        model = self._seeded()
        tensors: dict[str, torch.Tensor] = {}
        digest = hashlib.sha256()
        for f in self.files:
            read_header(f, f"{self.shown}/{f.name}")  # the files may have changed since configure
            tensors.update(load_file(str(f)))
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(chunk)
        state = model.state_dict()
        wanted = {e: tensors[f].to(state[e].dtype) for e, f in self._keys.items()}
        missing = set(model.load_state_dict(wanted, strict=False).missing_keys)
        tied = {n for n, _ in model.named_parameters(remove_duplicate=False)} - {n for n, _ in model.named_parameters()}
        if missing - tied:
            raise ConfigError(f"{self.shown}: weights missing for {sorted(missing - tied)[0]}")
        module, rules = self._wrap(model)
        return module, rules, digest.hexdigest()

    def control(self) -> nn.Module:
        return self._wrap(self._seeded())[0]

    def evaluate(self, module: nn.Module, device: str) -> dict[str, Any]:
        """A pretrained model is taken as trained: its task supplies inputs, not a target it was trained for.

        No forward pass here: Subject.run checks every output it computes for NaN and inf.
        """
        return {"pretrained": True, "reached": True, "target": None, "test_accuracy": None, "diverged": False,
                "folder": self.shown}


_HF_KEYS = {"name", "path", "package", "task", "task_options", "optimizer", "seed", "family"}


def load_hf(entries: Any, path: Path) -> list[HFSource]:
    """[[hf]] tables -> validated Hugging Face sources."""
    if not isinstance(entries, list):
        raise ConfigError(f"zoo file {path}: use [[hf]] tables to list Hugging Face model folders")
    out = []
    for entry in entries:
        c = common(entry, "hf", path, _HF_KEYS, {"name", "path", "task"})
        where = c["where"]
        root = package_root(entry["package"], where) if "package" in entry else path.parent.resolve()
        if not isinstance(entry["path"], str):
            raise ConfigError(f"{where}: path must be a folder")
        folder = inside(root, entry["path"], f"{where}: path")
        shown = entry["path"] if "package" not in entry else f"{entry['package']}/{entry['path']}"
        if not folder.is_dir():
            raise ConfigError(f"{where}: folder not found: {shown}")
        config_file = inside(root, str(folder / "config.json"), f"{where}: config")
        try:
            config = json.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{where}: {shown} has no config.json") from None
        except (OSError, UnicodeDecodeError, ValueError):
            raise ConfigError(f"{where}: {shown}/config.json is not valid JSON") from None
        if not isinstance(config, dict):
            raise ConfigError(f"{where}: {shown}/config.json is not a JSON object")
        files = weight_files(folder, root, shown, where)
        transformers_module()  # after the checks that need no transformers: a pickle folder is refused either way
        out.append(HFSource(c["name"], folder, shown, files, config, c["task"], c["family"] or c["name"],
                            c["optimizer"] or "pretrained", c["seed"], c["options"], where))
    return out
