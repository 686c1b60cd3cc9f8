"""Content hashes that pin a model and a tokenizer in a manifest.

* A ``.gguf`` file: ``sha256:<hex>`` of the file.
* A local folder: ``sha256:<hex>`` over the sorted (file name, file sha256) pairs
  of its weight files (``*.safetensors``, else ``*.bin``/``*.pt``/``*.pth``, else
  ``config.json``).
* A hub model: ``hub:<name>@<commit>`` (the revision transformers resolved).
* A tokenizer: sha256 of its serialized ``tokenizer.json`` (or sorted vocabulary),
  its special tokens and its chat template.

Hashing gigabytes takes a while, so file hashes are cached by (real path, size,
mtime) in memory and in ``$CORPUSMAP_CACHE`` (default
``$XDG_CACHE_HOME/corpusmap`` or ``~/.cache/corpusmap``) as
``file-hashes.json``; a changed file gets a new key and is hashed again. A cache
that cannot be written is skipped silently (the hash is still correct).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from corpusmap.atomic import write_json

_MEMO: dict[str, str] = {}
WEIGHT_PATTERNS = (("*.safetensors",), ("*.bin", "*.pt", "*.pth"), ("config.json",))


def cache_dir() -> Path:
    """Where corpusmap keeps small caches (see the module docstring)."""
    if env := os.environ.get("CORPUSMAP_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "corpusmap"


def _key(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def _load_disk_cache() -> dict[str, str]:
    try:
        with open(cache_dir() / "file-hashes.json", encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _store_disk_cache(key: str, digest: str) -> None:
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        data = _load_disk_cache()
        data[key] = digest
        write_json(folder / "file-hashes.json", data, indent=0)
    except OSError:
        pass


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, cached by (real path, size, mtime)."""
    p = Path(path)
    key = _key(p)
    if key in _MEMO:
        return _MEMO[key]
    digest = _load_disk_cache().get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            while chunk := f.read(1 << 22):
                h.update(chunk)
        digest = h.hexdigest()
        _store_disk_cache(key, digest)
    _MEMO[key] = digest
    return digest


def folder_weights_hash(folder: str | Path) -> str:
    """``sha256:<hex>`` over the weight files of a model folder (see the module docstring)."""
    root = Path(folder)
    files: list[Path] = []
    for patterns in WEIGHT_PATTERNS:
        files = sorted({p for pat in patterns for p in root.glob(pat) if p.is_file()})
        if files:
            break
    h = hashlib.sha256()
    for p in files:
        h.update(f"{p.name}\0{file_sha256(p)}\n".encode())
    return f"sha256:{h.hexdigest()}"


def tokenizer_hash(tokenizer: Any) -> str:
    """``sha256:<hex>`` of what makes a tokenizer encode and decode the way it does."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        body = backend.to_str()
    else:
        body = json.dumps(sorted(tokenizer.get_vocab().items()))
    special = json.dumps(getattr(tokenizer, "special_tokens_map", {}), sort_keys=True, default=str)
    template = getattr(tokenizer, "chat_template", None) or ""
    h = hashlib.sha256()
    for part in (body, special, str(template)):
        h.update(part.encode())
        h.update(b"\0")
    return f"sha256:{h.hexdigest()}"
