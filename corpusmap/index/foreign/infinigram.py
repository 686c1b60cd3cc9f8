"""Open an infini-gram index folder as a corpusmap ``Index``, read-only, where it lies.

``InfiniGramIndex`` is an ``Index`` whose shards are ``InfiniGramShard``s: every query
(count, locate, ntd, matching statistics, documents, the n-gram methods of
``classify``) runs the same kernels as on our format, through ``layout``. Such a
folder stores no tokenizer: u8 indexes are UTF-8 bytes, u16/u32 ones need the
tokenizer they were built with (``--tokenizer``). Documents are numbered shard after
shard, as infini-gram's engine numbers them.

What it leaves out: writing anything into the folder (side files go to the cache
folder), v5 reversed indexes, and MinHash (``corpusmap index minhash`` adds it to a
separate folder).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError, IndexFormatError
from corpusmap.index.foreign.infinigram_shard import (
    CacheDir,
    InfiniGramShard,
    shard_suffixes,
    token_width,
)
from corpusmap.index.index import Index
from corpusmap.tokenizer import Tokenizer, resolve_tokenizer

FORMAT = "infini-gram"
WIDTH_NAMES = {1: "u8", 2: "u16", 4: "u32"}


def is_infinigram(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an infini-gram index folder (and not one of ours)."""
    p = Path(path)
    return p.is_dir() and not (p / "manifest.json").exists() and bool(shard_suffixes(p))


def _tokenizer(path: Path, width: int, spec: str | None) -> Tokenizer:
    if spec is None:
        if width == 1:
            spec = "bytes"
        else:
            raise CorpusmapError(
                f"{path}: an infini-gram {WIDTH_NAMES[width]} index stores no tokenizer; pass "
                "--tokenizer (tokenizer=...) naming the one it was built with (a tokenizer.json, "
                "a model folder or hub name, ids:N)"
            )
    tok = resolve_tokenizer(spec)
    if tok is None:
        raise CorpusmapError(f"{path}: `words` is learnt per corpus; name a fixed tokenizer")
    if tok.spec.vocab_size > (1 << (8 * width)) - 2:
        raise CorpusmapError(
            f"{path}: tokenizer {spec!r} has {tok.spec.vocab_size:,} ids, more than a "
            f"{WIDTH_NAMES[width]} infini-gram index holds; name the tokenizer it was built with"
        )
    return tok


class InfiniGramIndex(Index):
    """An infini-gram folder opened for queries (see module docstring)."""

    def __init__(
        self,
        path: str | os.PathLike,
        tokenizer: str | None = None,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        self.path = Path(path)
        suffixes = shard_suffixes(self.path)
        if not suffixes:
            raise IndexFormatError(f"{self.path}: no tokenized.0 / tokenized: not infini-gram")
        widths = {token_width(self.path, s)[0] for s in suffixes}
        if len(widths) != 1:
            raise IndexFormatError(f"{self.path}: shards of different token widths {widths}")
        w = widths.pop()
        tok = _tokenizer(self.path, w, tokenizer)
        self.__dict__["tokenizer"] = tok  # the cached property of Index, set up front
        self.spec = tok.spec
        self.width = WIDTH_NAMES[w]
        self.separator = (1 << (8 * w)) - 1
        self.unknown = self.separator - 1
        stamp = "|".join(
            f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
            for s in suffixes
            for f in (self.path / f"tokenized{s}", self.path / f"table{s}")
        )
        self.cache = CacheDir(self.path, cache_dir, stamp)
        self.shards = []  # type: ignore[assignment]
        first = 0
        for s in suffixes:
            shard = InfiniGramShard(self.path, s, w, first, self.cache)
            self.shards.append(shard)  # type: ignore[arg-type]
            first += shard.n_docs
        self._first_ids = np.array([s.first_doc_id for s in self.shards], dtype=np.int64)
        self.manifest = self._manifest(stamp)

    def _manifest(self, stamp: str) -> dict[str, Any]:
        """What our manifest would say, as far as the folder tells."""
        shards: list[InfiniGramShard] = self.shards  # type: ignore[assignment]
        return {
            "format": FORMAT,
            "format_version": FORMAT,
            "n_docs": sum(s.n_docs for s in shards),
            "n_tokens": sum(s.n_tokens for s in shards),
            "n_shards": len(shards),
            "token_width": self.width,
            "separator_id": self.separator,
            "unknown_id": self.unknown,
            "tokenizer": self.spec.to_dict(),
            "corpus_fingerprint": hashlib.sha256(stamp.encode()).hexdigest(),
            "created_at": None,
            "build": {"indexer": "infini-gram"},
            "read_stats": {},
            "minhash": None,
            "shards": [
                {
                    "name": s.name,
                    "n_docs": s.n_docs,
                    "n_tokens": s.n_tokens,
                    "first_doc_id": s.first_doc_id,
                    "pointer_bytes": s.ptr,
                    "metadata": s.has_metadata,
                }
                for s in shards
            ],
        }

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"InfiniGramIndex({str(self.path)!r}, docs={m['n_docs']}, tokens={m['n_tokens']}, "
            f"tokenizer={self.spec.name!r})"
        )

    def info(self) -> dict[str, Any]:
        """Shards, tokens, documents, widths, bytes on disk and the cache folder."""
        info = {k: v for k, v in self.manifest.items() if k not in ("separator_id", "unknown_id")}
        shards: list[InfiniGramShard] = self.shards  # type: ignore[assignment]
        info["path"] = str(self.path)
        info["bytes_on_disk"] = sum(f.stat().st_size for s in shards for f in s.files())
        info["cache_dir"] = str(self.cache.path)
        return info
