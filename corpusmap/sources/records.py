"""Whole records from one file, every field kept: prompt sets and generation dumps.

:func:`~corpusmap.sources.read_documents` turns input into documents (a text, an id,
the rest as JSON meta), which is what an index build needs. A prompt set or a
generation dump needs every column as it is, with its type, so stages that read
those read records instead, through the same readers and the same errors:

* :func:`iter_records` yields ``(line, dict)`` for each object of a JSON Lines file
  (``.jsonl``/``.json``/``.ndjson``, plain, ``.gz`` or ``.zst``), with the
  ``file:line:col`` errors of :mod:`corpusmap.sources.jsonl`;
* :func:`read_table` gives a whole JSONL, Parquet or Arrow file as one Arrow
  table: Parquet and Arrow keep their own column types, JSONL fields get one type
  per field inferred over every row (:func:`records_table`);
* :func:`record_kind` says which of these a file is, by extension.

Every problem is an :class:`~corpusmap.errors.InputError` naming the file (and
line, column or row where one is known); a compressed file cut short raises,
naming the last line read whole, rather than giving fewer rows.

Left out: the plain-text and Hugging Face formats (a caller that accepts text
lines reads them with :func:`corpusmap.sources.text.read_text`), skipping bad
records (a prompt set or dump is read whole or not at all), and streaming:
:func:`read_table` holds the file's rows in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from corpusmap.errors import InputError
from corpusmap.sources.discover import kind_of
from corpusmap.sources.options import ReadOptions

RecordKind = Literal["jsonl", "parquet", "arrow"]
FIX_HINT = "fix that line"


def record_kind(path: Path) -> RecordKind | None:
    """``"jsonl"``, ``"parquet"`` or ``"arrow"`` for a file of records, else None."""
    kind = kind_of(path)
    return kind if kind in ("jsonl", "parquet", "arrow") else None  # type: ignore[return-value]


def iter_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(1-based line, object)`` for each non-blank line of a JSON Lines file.

    Raises:
        InputError: a line is not UTF-8, not JSON or not an object
            (``file:line[:col]``), or the file stops decompressing part way.
    """
    from corpusmap.sources.jsonl import iter_json_objects

    yield from iter_json_objects(path, ReadOptions(), hint=FIX_HINT)


def read_table(path: Path) -> pa.Table:
    """A JSONL, Parquet or Arrow file as one Arrow table (see the module docstring).

    Raises:
        InputError: the file is of another kind, unreadable, or has a bad record.
    """
    kind = record_kind(path)
    if kind == "jsonl":
        return records_table(str(path), [record for _, record in iter_records(path)])
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise InputError(str(path), f"not a readable Parquet file ({exc})") from exc
    if kind == "arrow":
        return _read_arrow(path)
    raise InputError(
        str(path), "not a file of records; use .jsonl (maybe .gz/.zst), .parquet or .arrow"
    )


def records_table(source: str, rows: list[dict[str, Any]]) -> pa.Table:
    """One Arrow column per field, in first-seen order, typed over all rows.

    A field missing from a row is null there. Unlike ``pa.Table.from_pylist``, a
    field that first appears in a later row is kept.

    Raises:
        InputError: a field holds values of types Arrow cannot put in one column.
    """
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {}
    for name in names:
        try:
            columns[name] = pa.array([row.get(name) for row in rows])
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(source, f"field {name!r} mixes value types: {exc}") from exc
    if not columns:
        return pa.table({"_": pa.nulls(len(rows))}).drop(["_"])
    return pa.table(columns)


def _read_arrow(path: Path) -> pa.Table:
    """An Arrow IPC stream or file, read whole."""
    import pyarrow.ipc as ipc

    try:
        with pa.OSFile(str(path), "rb") as f:
            try:
                return ipc.open_file(f).read_all()
            except pa.ArrowInvalid:
                f.seek(0)
                return ipc.open_stream(f).read_all()
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(str(path), f"not an Arrow IPC stream or file ({exc})") from exc
