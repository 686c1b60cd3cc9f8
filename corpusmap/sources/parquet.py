"""Parquet reader: streams record batches with ``ParquetFile.iter_batches``.

Memory is bounded by one row group's column chunks plus one batch, not by the
file. Rows are numbered from 1 in file order; the schema and row rules (text
column required and of a string type, nulls are bad records, other columns go to
``meta``) are those of :mod:`corpusmap.sources.columnar`.

``stats.bytes_read`` advances in proportion to the rows read, since Parquet reads
column chunks out of file order.

Not handled: partitioned datasets described by ``_metadata`` files or hive-style
folder names (each ``.parquet`` file under a folder is read on its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from corpusmap.errors import InputError
from corpusmap.sources.columnar import batch_documents, plan_columns
from corpusmap.sources.document import Document
from corpusmap.sources.options import ReadOptions


def read_parquet(path: Path, opts: ReadOptions) -> Iterator[Document]:
    """Yield the documents of one Parquet file.

    Args:
        path: the file to read.
        opts: field names, error policy, ``batch_rows`` and counters.

    Raises:
        InputError: the file is not Parquet, or its text/id column is missing or of a
            wrong type (regardless of ``on_error``), or a bad row under ``"raise"``.
    """
    source = str(path)
    stats = opts.stats
    stats.files += 1
    size = path.stat().st_size
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(source, f"not a readable Parquet file ({exc})") from exc
    with parquet:
        plan = plan_columns(parquet.schema_arrow, source, opts)
        total = max(parquet.metadata.num_rows, 1)
        first_row = 1
        counted = 0
        try:
            batches = parquet.iter_batches(batch_size=opts.batch_rows)
            for batch in batches:
                yield from batch_documents(batch, plan, source, first_row, opts)
                first_row += batch.num_rows
                done = size * (first_row - 1) // total
                stats.bytes_read += done - counted
                counted = done
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                source, f"could not read rows after row {first_row - 1} ({exc})"
            ) from exc
        stats.bytes_read += size - counted
