"""Record batches to documents: the part the Parquet, Arrow and Hugging Face readers share.

:func:`plan_columns` checks a schema once per file (the text column exists and
holds strings; the id column, if named, exists and holds strings or integers) and
raises an :class:`InputError` otherwise, whatever ``on_error`` says, since no row
of such a file could be read. :func:`batch_documents` then converts one batch at a
time with ``Array.to_pylist()`` per column, never per-row scalar access.

Every column other than the text and id goes into ``Document.meta``. Arrow types
that ``to_pylist`` turns into non-JSON values (timestamps, decimals, binary, ...)
are converted by :func:`jsonable`; columns of plain types skip that step.

Not handled: reading only some columns (all are read, for the meta) and
extension types beyond what ``to_pylist`` returns.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from typing import Any

import pyarrow as pa

from corpusmap.errors import InputError
from corpusmap.sources.document import Document
from corpusmap.sources.options import SKIP_HINT, ReadOptions, id_problem, id_string, is_empty


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """Where the text, id and meta columns are in a schema.

    Attributes:
        text: index of the text column.
        id: index of the id column, or None.
        meta: ``(name, index, needs_conversion)`` for every other column.
    """

    text: int
    id: int | None
    meta: tuple[tuple[str, int, bool], ...]


def plan_columns(schema: pa.Schema, path: str, opts: ReadOptions) -> ColumnPlan:
    """Check ``schema`` against the text/id fields and say where each column is.

    Raises:
        InputError: the text or id column is missing, or has an unusable type.
    """
    names = schema.names
    available = ", ".join(repr(n) for n in names) or "none"
    if opts.text_field not in names:
        raise InputError(
            path,
            f"no column {opts.text_field!r} (columns: {available}); "
            "pass --text-field NAME to read another column",
        )
    text = names.index(opts.text_field)
    text_type = schema.field(text).type
    if not _is_string(text_type):
        raise InputError(
            path,
            f"column {opts.text_field!r} has type {text_type}, expected a string type; "
            "pass --text-field NAME to read another column",
        )
    id_index = None
    if opts.id_field is not None:
        if opts.id_field not in names:
            raise InputError(
                path,
                f"no id column {opts.id_field!r} (columns: {available}); "
                "pass --id-field NAME or leave it out",
            )
        id_index = names.index(opts.id_field)
        id_type = schema.field(id_index).type
        if not (_is_string(id_type) or pa.types.is_integer(id_type)):
            raise InputError(
                path,
                f"id column {opts.id_field!r} has type {id_type}, expected string or integer",
            )
    meta = tuple(
        (name, i, not _is_plain(schema.field(i).type))
        for i, name in enumerate(names)
        if i not in (text, id_index)
    )
    return ColumnPlan(text=text, id=id_index, meta=meta)


def batch_documents(
    batch: pa.RecordBatch, plan: ColumnPlan, source: str, first_row: int, opts: ReadOptions
) -> Iterator[Document]:
    """Yield the documents of one batch whose first row is number ``first_row`` (1-based).

    Null texts and null ids are bad records (raised or skipped per ``opts``).
    """
    texts = batch.column(plan.text).to_pylist()
    ids = batch.column(plan.id).to_pylist() if plan.id is not None else None
    names = [name for name, _, _ in plan.meta]
    columns = []
    for _, index, convert in plan.meta:
        values = batch.column(index).to_pylist()
        columns.append([jsonable(v) for v in values] if convert else values)
    rows = zip(*columns, strict=True) if columns else repeat(())
    stats = opts.stats
    for k, (text, values) in enumerate(zip(texts, rows, strict=False)):
        row = first_row + k
        if text is None:
            opts.bad_record(
                InputError(source, f"column {opts.text_field!r} is null; {SKIP_HINT}", row)
            )
            continue
        doc_id = None
        if ids is not None:
            doc_id = id_string(ids[k])
            if doc_id is None:
                assert opts.id_field is not None
                opts.bad_record(InputError(source, id_problem(ids[k], opts.id_field), row))
                continue
        if is_empty(text):
            stats.empty_skipped += 1
            continue
        meta = dict(zip(names, values, strict=True))
        yield Document(text=text, source=source, row=row, id=doc_id, meta=meta)


def jsonable(value: Any) -> Any:
    """A value from ``to_pylist`` made JSON-serialisable.

    Dates and times become ISO strings, durations seconds, decimals strings, bytes
    UTF-8 text (or ``base64:...`` when not UTF-8); lists, tuples and dicts are
    converted element by element.
    """
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(raw).decode("ascii")
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return str(value)


def _is_string(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _is_string(t.value_type)
    is_view = getattr(pa.types, "is_string_view", lambda _t: False)
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or is_view(t))


def _is_plain(t: pa.DataType) -> bool:
    """Whether ``to_pylist`` already gives JSON values for this type (no conversion)."""
    if pa.types.is_dictionary(t):
        return _is_plain(t.value_type)
    if (
        pa.types.is_null(t)
        or pa.types.is_boolean(t)
        or pa.types.is_integer(t)
        or pa.types.is_float32(t)
        or pa.types.is_float64(t)
        or _is_string(t)
    ):
        return True
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _is_plain(t.value_type)
    if pa.types.is_struct(t):
        return all(_is_plain(t.field(i).type) for i in range(t.num_fields))
    return False
