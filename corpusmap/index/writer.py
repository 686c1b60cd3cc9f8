"""Write one shard: tokens with separators, and the document table, streaming.

Tokens are buffered and appended to ``tokens.bin`` in large blocks; document rows
go to ``docs.parquet`` in row groups, so memory stays bounded by the buffers, not
by the shard. The suffix array is sorted afterwards (``sort.py``), from the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusmap.errors import InputError
from corpusmap.index.format import DOCS, TOKENS
from corpusmap.sources.document import Document
from corpusmap.tokenizer.spec import WIDTHS, separator_id, unknown_id

DOCS_SCHEMA = pa.schema(
    [
        ("doc_id", pa.int64()),
        ("start", pa.int64()),
        ("length", pa.int64()),
        ("id", pa.string()),
        ("source", pa.string()),
        ("row", pa.int64()),
        ("meta", pa.string()),
    ]
)
_FLUSH_TOKENS = 1 << 22
_FLUSH_ROWS = 1 << 16


class ShardWriter:
    """Appends documents to a shard folder until closed."""

    def __init__(self, folder: Path, width: str, first_doc_id: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.dtype = WIDTHS[width]
        self.sep = separator_id(width)
        self.limit = unknown_id(width)  # ids >= this are reserved
        self.first_doc_id = first_doc_id
        self.n_tokens = 0
        self.n_docs = 0
        self._tokens = open(folder / TOKENS, "wb")  # noqa: SIM115 - closed in close()
        self._pending: list[np.ndarray] = []
        self._pending_len = 0
        self._rows: dict[str, list] = {name: [] for name in DOCS_SCHEMA.names}
        # delta-encoded monotone integers + zstd: ~3.5 bytes/document on disk
        self._docs = pq.ParquetWriter(
            folder / DOCS,
            DOCS_SCHEMA,
            compression="zstd",
            use_dictionary=["id", "source", "meta"],
            column_encoding={
                c: "DELTA_BINARY_PACKED" for c in ("doc_id", "start", "length", "row")
            },
        )

    def add(self, doc: Document, tokens: np.ndarray) -> None:
        """Append one document (its tokens, then a separator) and its table row."""
        if tokens.size and (int(tokens.max()) >= self.limit or int(tokens.min()) < 0):
            bad = int(tokens.max()) if int(tokens.max()) >= self.limit else int(tokens.min())
            raise InputError(
                doc.source,
                f"token id {bad} is outside 0..{self.limit - 1} (the top two ids of the "
                "index width are reserved); check --eod-id/--token-dtype or the tokenizer",
                line=doc.row,
            )
        block = np.empty(tokens.size + 1, dtype=self.dtype)
        block[:-1] = tokens
        block[-1] = self.sep
        self._pending.append(block)
        self._pending_len += block.size
        rows = self._rows
        rows["doc_id"].append(self.first_doc_id + self.n_docs)
        rows["start"].append(self.n_tokens)
        rows["length"].append(int(tokens.size))
        rows["id"].append(doc.id)
        rows["source"].append(doc.source)
        rows["row"].append(doc.row)
        rows["meta"].append(
            json.dumps(doc.meta, ensure_ascii=False, default=str) if doc.meta else None
        )
        self.n_tokens += block.size
        self.n_docs += 1
        if self._pending_len >= _FLUSH_TOKENS:
            self._flush_tokens()
        if len(rows["doc_id"]) >= _FLUSH_ROWS:
            self._flush_rows()

    def _flush_tokens(self) -> None:
        if self._pending:
            np.concatenate(self._pending).tofile(self._tokens)
            self._pending, self._pending_len = [], 0

    def _flush_rows(self) -> None:
        if self._rows["doc_id"]:
            self._docs.write_table(pa.table(self._rows, schema=DOCS_SCHEMA))
            self._rows = {name: [] for name in DOCS_SCHEMA.names}

    def close(self) -> None:
        """Flush everything; the shard's files are complete afterwards (not yet sorted)."""
        self._flush_tokens()
        self._flush_rows()
        self._tokens.close()
        self._docs.close()
