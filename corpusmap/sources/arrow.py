"""Arrow IPC reader: ``.arrow`` files, streamed one record batch at a time.

Hugging Face ``save_to_disk`` writes the Arrow IPC *stream* format, which is what
this reader expects; a file that starts with the ``ARROW1`` magic (the IPC *file*
format, as ``pyarrow.ipc.new_file`` writes) is read too. Files are memory-mapped,
so batches are read without copying and memory does not grow with file size.

:func:`iter_arrow_documents` is also the engine of the Hugging Face folder reader,
which passes its own ``source`` and first row so that rows count through all the
shards of a dataset. Schema and row rules are those of
:mod:`corpusmap.sources.columnar`.

Not handled: Feather v1 files and compressed IPC buffers other than what pyarrow
decodes itself.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from corpusmap.errors import InputError
from corpusmap.sources.columnar import batch_documents, plan_columns
from corpusmap.sources.document import Document
from corpusmap.sources.options import ReadOptions

_FILE_MAGIC = b"ARROW1"


def read_arrow(path: Path, opts: ReadOptions) -> Iterator[Document]:
    """Yield the documents of one ``.arrow`` file, rows numbered from 1.

    Args:
        path: the file to read.
        opts: field names, error policy and counters.
    """
    yield from iter_arrow_documents(path, opts, source=str(path), first_row=1)


def iter_arrow_documents(
    path: Path, opts: ReadOptions, source: str, first_row: int
) -> Generator[Document, None, int]:
    """Yield the documents of one Arrow IPC file, naming them ``source`` from ``first_row``.

    Schema errors name ``path`` itself; row errors name ``source`` and the row, as
    the yielded documents do.

    Returns:
        The number of rows in the file (the generator's return value, for ``yield from``).

    Raises:
        InputError: the file is not Arrow IPC, or its text/id column is missing or of a
            wrong type (regardless of ``on_error``), or a bad row under ``"raise"``.
    """
    stats = opts.stats
    stats.files += 1
    with pa.memory_map(str(path), "r") as mapped:
        is_file_format = mapped.read(len(_FILE_MAGIC)) == _FILE_MAGIC
        mapped.seek(0)
        try:
            if is_file_format:
                file_reader = ipc.open_file(mapped)
                schema = file_reader.schema
                batches: Iterator[pa.RecordBatch] = (
                    file_reader.get_batch(i) for i in range(file_reader.num_record_batches)
                )
            else:
                stream_reader = ipc.open_stream(mapped)
                schema = stream_reader.schema
                batches = iter(stream_reader)
        except pa.ArrowInvalid as exc:
            raise InputError(str(path), f"not an Arrow IPC stream or file ({exc})") from exc
        plan = plan_columns(schema, str(path), opts)
        row = first_row
        counted = 0
        while True:
            try:
                batch = next(batches, None)
            except pa.ArrowInvalid as exc:
                raise InputError(
                    str(path), f"could not read the batch after row {row - 1} ({exc})"
                ) from exc
            if batch is None:
                break
            yield from batch_documents(batch, plan, source, row, opts)
            row += batch.num_rows
            position = mapped.tell()
            stats.bytes_read += position - counted
            counted = position
        stats.bytes_read += max(mapped.size() - counted, 0)
    return row - first_row
