"""In-memory inputs: an Arrow table or documents a caller already holds.

``build_index`` takes these beside files, so a stage that has its texts (or their
tokens) in memory, such as the generations index of a classify run, indexes them
directly, with no temp file written only to be read back. The documents are held
as a list (they are in memory already); their fingerprint is a hash of their
content, so a resumed build of the same documents keeps its finished shards.

What it leaves out: streaming a huge in-memory iterable without holding it (write
it to a file and index the file).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from corpusmap.errors import InputError
from corpusmap.sources.document import Document, ReadStats

TABLE_SOURCE = "<table>"


def documents_from_table(
    table: pa.Table, text_field: str = "text", id_field: str | None = None
) -> list[Document]:
    """One document per row: text from ``text_field``; scalar columns become metadata."""
    for name in (text_field, id_field):
        if name is not None and name not in table.column_names:
            raise InputError(
                TABLE_SOURCE,
                f"no column {name!r}; columns are {table.column_names}: name the text "
                "column with text_field",
            )
    texts = table.column(text_field).to_pylist()
    ids = table.column(id_field).to_pylist() if id_field else [None] * table.num_rows
    meta_cols = [
        c
        for c in table.column_names
        if c not in (text_field, id_field) and not pa.types.is_nested(table.schema.field(c).type)
    ]
    metas = table.select(meta_cols).to_pylist() if meta_cols else [{}] * table.num_rows
    docs = []
    for row, (text, ident, meta) in enumerate(zip(texts, ids, metas, strict=True), start=1):
        if text is not None and not isinstance(text, str):
            raise InputError(
                TABLE_SOURCE,
                f"column {text_field!r}: expected text, got {type(text).__name__}; "
                "choose a string column",
                line=row,
            )
        docs.append(
            Document(
                text=text,
                source=TABLE_SOURCE,
                row=row,
                id=None if ident is None else str(ident),
                meta={k: v for k, v in meta.items() if v is not None},
            )
        )
    return docs


def iter_memory(docs: list[Document], stats: ReadStats) -> Iterator[Document]:
    """The documents in order, empty ones skipped and counted (as the file readers do)."""
    for doc in docs:
        if len(doc.tokens) == 0 if doc.tokens is not None else not (doc.text or "").strip():
            stats.empty_skipped += 1
            continue
        stats.documents += 1
        yield doc


def fingerprint(docs: Iterable[Document]) -> dict[str, Any]:
    """A content hash of in-memory documents (what a resumed build compares)."""
    h = hashlib.sha256()
    n = 0
    for d in docs:
        n += 1
        h.update(json.dumps([d.source, d.row, d.id, d.text, d.meta], default=str).encode())
        if d.tokens is not None:
            h.update(np.ascontiguousarray(d.tokens, dtype=np.int64).tobytes())
        h.update(b"\0")
    return {"path": "<in-memory documents>", "documents": n, "sha256": h.hexdigest()}
