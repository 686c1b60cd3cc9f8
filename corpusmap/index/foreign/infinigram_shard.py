"""One shard of an infini-gram index folder, memory-mapped read-only.

The layout, as ``infini_gram/indexing.py`` (2.6.0) and its engine write and read it,
per shard ``N`` (``indexing_v6.py`` writes one shard with no ``.N`` suffix):

* ``tokenized.N``: little-endian tokens of width ``w`` (1, 2 or 4 bytes); every
  document is *preceded* by the separator, ``w`` bytes 0xFF.
* ``table.N``: the suffix array, one entry per token (separators included), each a
  little-endian *byte offset* into ``tokenized.N`` of ``k`` bytes, where the indexer
  picks ``k = ceil(log2(size of tokenized.N) / 8)`` (so ``k`` = size / tokens).
  Suffixes are sorted *byte-wise*, which for u16/u32 is not token-id order.
* ``offset.N``: uint64 byte offset of each document's separator.
* ``metadata.N`` / ``metaoff.N`` (with ``--add_metadata``): one JSON line per document
  (``{"path", "linenum", "metadata"}``) and the uint64 offset of each line.

The arrays are handed to the kernels in the shapes ``layout`` describes (2-D byte
views where the order is byte-wise or the pointer width is odd), so the same compiled
search code serves this layout and ours. The first-token table is found by searching
(one range per first key) rather than by a pass over the tokens, and kept in the
cache folder. What it leaves out: v5 (reversed) indexes and ``unigram.N`` files.
"""

from __future__ import annotations

import json
import math
import os
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from corpusmap.errors import IndexFormatError
from corpusmap.index import interleaved_search
from corpusmap.index.interleaved_search import NO_TABLE


def shard_suffixes(folder: Path) -> list[str]:
    """``['.0', '.1', ...]`` for ``tokenized.N`` files, ``['']`` for a v6 folder, else []."""
    out: list[str] = []
    while (folder / f"tokenized.{len(out)}").is_file():
        out.append(f".{len(out)}")
    if not out and (folder / "tokenized").is_file():
        out = [""]
    return out


def token_width(folder: Path, suffix: str) -> tuple[int, int]:
    """(token width, pointer width) of a shard, from file sizes as the indexer sets them."""
    ds = (folder / f"tokenized{suffix}").stat().st_size
    sa = (folder / f"table{suffix}").stat().st_size
    if ds == 0:
        raise IndexFormatError(f"{folder / f'tokenized{suffix}'}: empty shard")
    ratio = max(1, math.ceil(math.log2(ds) / 8))
    for w in (1, 2, 4):
        if ds % w == 0 and sa == (ds // w) * ratio:
            return w, ratio
    raise IndexFormatError(
        f"{folder / f'table{suffix}'}: {sa} bytes does not fit {ds} bytes of tokens at any "
        "token width (1, 2, 4) with the indexer's pointer width; the folder is incomplete"
    )


class InfiniGramShard:
    """A shard exposing what ``Index`` reads of its own ``Shard`` (see module docstring)."""

    def __init__(self, folder: Path, suffix: str, width: int, first_doc_id: int, cache: Any):
        self.folder, self.suffix, self.w = folder, suffix, width
        self.first_doc_id = first_doc_id
        self.cache = cache
        self.name = f"tokenized{suffix}"
        paths = {k: folder / f"{k}{suffix}" for k in ("tokenized", "table", "offset")}
        for p in paths.values():
            if not p.is_file():
                raise IndexFormatError(f"{p}: missing; the infini-gram folder is incomplete")
        ds = np.memmap(paths["tokenized"], dtype=np.uint8, mode="r").view(np.ndarray)
        self.n_tokens = ds.size // width
        w_found, self.ptr = token_width(folder, suffix)
        if w_found != width:
            raise IndexFormatError(f"{paths['tokenized']}: token width {w_found}, not {width}")
        self.tokens = ds if width == 1 else ds.reshape(self.n_tokens, width)
        sa = np.memmap(paths["table"], dtype=np.uint8, mode="r").view(np.ndarray)
        if width == 1 and self.ptr in (1, 2, 4, 8):  # byte offsets are token positions
            self.sa = sa.view(f"<u{self.ptr}")
        else:
            self.sa = sa.reshape(self.n_tokens, self.ptr)
        od_size = paths["offset"].stat().st_size
        if od_size % 8:
            raise IndexFormatError(f"{paths['offset']}: {od_size} bytes, not whole uint64s")
        self.offsets = np.memmap(paths["offset"], dtype="<u8", mode="r").view(np.ndarray)
        self.n_docs = int(self.offsets.size)
        self.metadata = folder / f"metadata{suffix}"
        self.metaoff = folder / f"metaoff{suffix}"
        self.has_metadata = self.metadata.is_file() and self.metaoff.is_file()

    # ---- documents -------------------------------------------------------------
    @cached_property
    def starts(self) -> np.ndarray:
        """Token position of each document's first token (after its separator)."""
        return self.offsets.astype(np.int64) // self.w + 1

    @cached_property
    def lengths(self) -> np.ndarray:
        ends = np.append(self.offsets.astype(np.int64) // self.w, self.n_tokens)[1:]
        return ends - self.starts

    @cached_property
    def docs(self) -> pa.Table:
        """A document table shaped like our ``docs.parquet`` (ids, starts, lengths)."""
        doc_ids = np.arange(self.n_docs, dtype=np.int64) + self.first_doc_id
        return pa.table(
            {
                "doc_id": doc_ids,
                "start": self.starts,
                "length": self.lengths,
                "id": pa.array([None] * self.n_docs, pa.string()),
                "source": pa.array([self.name] * self.n_docs, pa.string()),
                "row": np.arange(self.n_docs, dtype=np.int64),
                "meta": pa.array([None] * self.n_docs, pa.string()),
            }
        )

    def token_slice(self, start: int, stop: int) -> np.ndarray:
        """Tokens ``start:stop`` (an infini-gram folder has no block checksums to check)."""
        return self.tokens[start:stop]

    def doc_at(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Global doc id and offset within the document for token positions."""
        idx = np.searchsorted(self.starts, positions, side="right") - 1
        return idx + self.first_doc_id, positions - self.starts[idx]

    def doc_record(self, local: int) -> dict[str, Any]:
        """The document's row; with ``metadata.N``, its source path, line and metadata."""
        rec: dict[str, Any] = {
            "doc_id": self.first_doc_id + local,
            "start": int(self.starts[local]),
            "length": int(self.lengths[local]),
            "id": None,
            "source": self.name,
            "row": local,
            "meta": {},
        }
        if self.has_metadata:
            om = np.memmap(self.metaoff, dtype="<u8", mode="r")
            end = int(om[local + 1]) if local + 1 < om.size else self.metadata.stat().st_size
            with open(self.metadata, "rb") as f:
                f.seek(int(om[local]))
                line = json.loads(f.read(end - int(om[local])).decode("utf-8"))
            meta = line.get("metadata") or {}
            rec.update(source=line.get("path"), row=line.get("linenum"), meta=meta)
            rec["id"] = str(meta["id"]) if isinstance(meta, dict) and "id" in meta else None
        return rec

    # ---- first-token table ---------------------------------------------------------
    def first_token_table(self) -> np.ndarray:
        """Where each first key's suffixes start (``prefix_table``), from the cache."""
        if self.w == 4 or self.sa.shape[0] == 0:  # 2^32 keys: search from all of sa
            return NO_TABLE
        name = f"first-token-table{self.suffix or '.v6'}.npy"
        cached = self.cache.load(name)
        if cached is not None and cached.size == (1 << (8 * self.w)) + 1:
            return cached
        size = 1 << (8 * self.w)
        keys = np.arange(size, dtype=np.int64)
        offs = np.arange(size + 1, dtype=np.int64)
        lo, hi = np.zeros(size, np.int64), np.zeros(size, np.int64)
        interleaved_search.ranges(self.tokens, self.sa, NO_TABLE, keys, offs, lo, hi)
        table = np.append(lo, self.sa.shape[0])
        if not (np.array_equal(table[1:-1], hi[:-1]) and hi[-1] == self.sa.shape[0]):
            return NO_TABLE  # not one block per first key: search without a table
        table = table.astype(np.uint32 if self.sa.shape[0] < 1 << 32 else np.uint64)
        self.cache.save(name, table)
        return table

    def files(self) -> list[Path]:
        names = ["tokenized", "table", "offset"]
        if self.has_metadata:
            names += ["metadata", "metaoff"]
        return [self.folder / f"{n}{self.suffix}" for n in names]


class CacheDir:
    """Side files of a foreign index: ``cache_dir`` or ``~/.cache/corpusmap/<hash>``.

    The folder name hashes the index path and its files' sizes and mtimes, so a
    changed index gets fresh side files. A cache that cannot be written is skipped.
    """

    def __init__(self, index_path: Path, cache_dir: str | os.PathLike | None, stamp: str):
        import hashlib

        digest = hashlib.sha256(f"{index_path.resolve()}|{stamp}".encode()).hexdigest()[:16]
        base = Path(cache_dir) if cache_dir else Path.home() / ".cache" / "corpusmap"
        self.path = base / digest
        self.stamp = stamp

    def load(self, name: str) -> np.ndarray | None:
        try:
            return np.load(self.path / name)
        except (OSError, ValueError):
            return None

    def save(self, name: str, arr: np.ndarray) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            tmp = self.path / f".{name}.tmp.npy"
            np.save(tmp, arr)
            os.replace(tmp, self.path / name)
        except OSError:
            pass
