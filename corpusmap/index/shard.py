"""One shard opened for queries: memory-mapped tokens and suffix array, doc table.

Opening checks that every file exists and has the size its record says, so a
truncated file is refused at once, and that the small files (``docs.parquet``,
``checksums.bin``) match their sha256. The big arrays are verified block by block
on first use (``integrity``): ``tokens`` and ``sa`` verify their whole file the
first time they are read, ``token_slice`` only the blocks it returns. ``corpusmap
index verify`` also checks the sort order. The document table is loaded on first use.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusmap.errors import IndexFormatError
from corpusmap.index.format import DOCS, SA_WIDTH, SUFFIX_ARRAY, TOKENS
from corpusmap.index.integrity import BlockChecker
from corpusmap.tokenizer.spec import WIDTHS


class Shard:
    """A shard's arrays and documents.

    Attributes:
        tokens: the token string (documents each followed by the separator).
        sa: u32 suffix array over ``tokens`` (separator positions left out).
        first_doc_id / n_docs: the global doc ids this shard holds.
        blocks: which blocks of ``tokens.bin`` and ``sa.bin`` are verified so far.
    """

    def __init__(self, folder: Path, record: dict[str, Any], width: str) -> None:
        self.folder = folder
        self.record = record
        self.first_doc_id = int(record["first_doc_id"])
        self.n_docs = int(record["n_docs"])
        itemsize = np.dtype(WIDTHS[width]).itemsize
        expect = {
            TOKENS: int(record["n_tokens"]) * itemsize,
            SUFFIX_ARRAY: int(record["n_suffixes"]) * SA_WIDTH,
        }
        for name, size in expect.items():
            path = folder / name
            if not path.is_file():
                raise IndexFormatError(f"{path}: missing; the index is damaged, rebuild it")
            if path.stat().st_size != size:
                raise IndexFormatError(
                    f"{path}: {path.stat().st_size} bytes, expected {size} (truncated or "
                    "replaced); run `corpusmap index verify` and rebuild the index"
                )
        self._tokens = _mmap(folder / TOKENS, WIDTHS[width])
        self._sa = _mmap(folder / SUFFIX_ARRAY, np.uint32)
        self.blocks = BlockChecker(folder, record, {TOKENS: self._tokens, SUFFIX_ARRAY: self._sa})
        self.blocks.check_small(DOCS)

    @property
    def tokens(self) -> np.ndarray:
        """All tokens, every block verified (on the first access in this process)."""
        self.blocks.ensure_all(TOKENS)
        return self._tokens

    @property
    def sa(self) -> np.ndarray:
        """The whole suffix array, every block verified (on the first access)."""
        self.blocks.ensure_all(SUFFIX_ARRAY)
        return self._sa

    def token_slice(self, start: int, stop: int) -> np.ndarray:
        """``tokens[start:stop]``, verifying only the blocks that hold it."""
        size = self._tokens.itemsize
        self.blocks.ensure(TOKENS, start * size, stop * size)
        return self._tokens[start:stop]

    @cached_property
    def docs(self) -> pa.Table:
        """The shard's document table (doc_id, start, length, id, source, row, meta)."""
        try:
            return pq.read_table(self.folder / DOCS)
        except (pa.ArrowInvalid, OSError) as exc:
            raise IndexFormatError(
                f"{self.folder / DOCS}: unreadable ({exc}); rebuild the index"
            ) from exc

    @cached_property
    def starts(self) -> np.ndarray:
        """Start position of every document in ``tokens`` (sorted)."""
        return self.docs.column("start").to_numpy().astype(np.int64)

    def doc_at(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Global doc id and offset within the document for token positions."""
        idx = np.searchsorted(self.starts, positions, side="right") - 1
        return idx + self.first_doc_id, positions - self.starts[idx]

    def doc_record(self, local: int) -> dict[str, Any]:
        row = self.docs.slice(local, 1).to_pylist()[0]
        row["meta"] = json.loads(row["meta"]) if row["meta"] else {}
        return row


def _mmap(path: Path, dtype: type) -> np.ndarray:
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r").view(np.ndarray)
