"""The MinHash files of an index, and reading them back.

They lie in ``NAME/minhash/`` (built with the index) or in a side folder made by
``corpusmap index minhash`` (``side_folder.py``; the same files, and ``minhash.json``
also names the index they belong to). ``minhash_folder`` says which one a reader uses.
Layout::

    signatures.parquet  doc_id int64, hashvalues fixed_size_list<uint32>[num_perm]
                        (rows in doc_id order, row groups of ROW_GROUP docs,
                        uncompressed: hash values are random bits)
    bands.parquet       band int32, bucket int64, doc_id int64 (empty docs left out)
    minhash.json        parameters, counts and sha256 of both files (written last)

DuckDB reads both directly (``hashvalues`` is a ``UINTEGER[num_perm]`` array).
``SignatureReader`` fetches the signatures of given doc ids by reading only the
row groups that hold them, so a query never loads the whole file.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusmap.errors import IndexFormatError

MINHASH_DIR = "minhash"
SIGNATURES = "signatures.parquet"
BANDS = "bands.parquet"
RECORD = "minhash.json"
FORMAT = "corpusmap-minhash"
VERSION = 1
ROW_GROUP = 4096


_local = threading.local()


def duckdb_cursor() -> Any:
    """A cursor on this thread's in-memory DuckDB database.

    Opening a DuckDB connection costs ~10 ms, more than joining a batch of a few
    thousand queries, so one connection per thread (and process) is kept and each
    call gets a cheap cursor of it; close the cursor when done.
    """
    import duckdb

    con = getattr(_local, "con", None)
    if con is None or _local.pid != os.getpid():
        _local.con, _local.pid = duckdb.connect(), os.getpid()
        con = _local.con
    return con.cursor()


def signatures_schema(num_perm: int) -> pa.Schema:
    return pa.schema([("doc_id", pa.int64()), ("hashvalues", pa.list_(pa.uint32(), num_perm))])


def signatures_table(doc_ids: np.ndarray, sigs: np.ndarray) -> pa.Table:
    """Arrow table of signature rows (``sigs`` is uint32 ``(n, num_perm)``)."""
    values = pa.array(np.ascontiguousarray(sigs, dtype=np.uint32).reshape(-1))
    lists = pa.FixedSizeListArray.from_arrays(values, sigs.shape[1])
    return pa.table([pa.array(doc_ids, pa.int64()), lists], schema=signatures_schema(sigs.shape[1]))


def list_values(column: pa.ChunkedArray | pa.Array, width: int) -> np.ndarray:
    """A fixed_size_list<uint32> column as a uint32 ``(rows, width)`` array."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return (
        arr.flatten()
        .to_numpy(zero_copy_only=False)
        .reshape(-1, width)
        .astype(np.uint32, copy=False)
    )


def minhash_folder(where: Any) -> Path:
    """The folder holding the MinHash files of ``where``.

    ``where`` is an opened index (its side folder when one was attached with
    ``open_index(..., minhash=DIR)``, else its own ``NAME/minhash``), or a path: a
    folder that holds ``minhash.json`` itself (a side folder, or ``NAME/minhash``) or
    an index folder.
    """
    if isinstance(where, str | os.PathLike):
        path = Path(where)
        return path if (path / RECORD).is_file() else path / MINHASH_DIR
    side = getattr(where, "minhash_dir", None)
    return Path(side) if side is not None else Path(where.path) / MINHASH_DIR


def load_params(where: Any) -> dict[str, Any]:
    """The build record (``minhash.json``) of an index's MinHash; an error if it has none.

    ``where``: as in ``minhash_folder``.
    """
    path = minhash_folder(where) / RECORD
    if not path.is_file():
        name = where if isinstance(where, str | os.PathLike) else where.path
        raise IndexFormatError(
            f"{name} has no MinHash near-duplicate index ({path} missing); make one beside "
            f"it with `corpusmap index minhash {name} --out DIR` and pass --minhash DIR, "
            "or rebuild our index without --no-minhash"
        )
    try:
        params: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise IndexFormatError(f"{path}: not valid JSON ({exc}); rebuild the MinHash") from exc
    if params.get("format") != FORMAT or params.get("format_version") != VERSION:
        raise IndexFormatError(
            f"{path}: MinHash format {params.get('format')!r} v{params.get('format_version')}, "
            f"this corpusmap reads {FORMAT!r} v{VERSION}; rebuild the MinHash"
        )
    return params


class SignatureReader:
    """Random access to stored signatures by doc id, one row group at a time."""

    def __init__(self, where: Any, num_perm: int) -> None:
        self.path = minhash_folder(where) / SIGNATURES
        self.num_perm = num_perm
        try:
            self.file = pq.ParquetFile(self.path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise IndexFormatError(f"{self.path}: unreadable ({exc}); rebuild the index") from exc
        meta = self.file.metadata
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        self.first_row = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        firsts = []
        for i in range(meta.num_row_groups):  # doc ids are ascending; the first of each group
            stats = meta.row_group(i).column(0).statistics
            firsts.append(stats.min if stats is not None and stats.has_min_max else None)
        if any(f is None for f in firsts):  # no statistics: assume doc_id == row number
            firsts = self.first_row[:-1].tolist()
        self.first_id = np.asarray(firsts, dtype=np.int64)

    def take(self, doc_ids: np.ndarray) -> np.ndarray:
        """uint32 ``(len(doc_ids), num_perm)``: the signature of each doc id (any order)."""
        doc_ids = np.asarray(doc_ids, dtype=np.int64)
        uniq, inverse = np.unique(doc_ids, return_inverse=True)
        out = np.empty((uniq.size, self.num_perm), dtype=np.uint32)
        group = np.searchsorted(self.first_id, uniq, side="right") - 1
        bounds = np.flatnonzero(np.diff(group)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, uniq.size], strict=True):
            if lo == hi:
                continue
            g = int(group[lo])
            if g < 0:
                raise IndexFormatError(f"{self.path}: doc_id {int(uniq[lo])} not stored")
            part = self.file.read_row_group(g, columns=["doc_id", "hashvalues"])
            ids = part.column("doc_id").to_numpy()
            pos = np.searchsorted(ids, uniq[lo:hi])
            if np.any(pos >= ids.size) or np.any(ids[np.minimum(pos, ids.size - 1)] != uniq[lo:hi]):
                raise IndexFormatError(f"{self.path}: some doc ids are not stored; rebuild")
            out[lo:hi] = list_values(part.column("hashvalues"), self.num_perm)[pos]
        return out[inverse]
