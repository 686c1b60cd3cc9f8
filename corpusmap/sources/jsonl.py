"""JSON Lines reader: one JSON object per line, plain, gzip or zstandard compressed.

The file is read in binary one line at a time, so memory stays flat however large
it is. Each line is decoded as strict UTF-8 and parsed with :func:`json.loads`;
the ``text_field`` value becomes the document text, the ``id_field`` value (if
named) its id, and every other field its ``meta``. The row number is the 1-based
line number, counting blank lines, so ``sed -n Np`` finds the record.

Bad lines (undecodable bytes, malformed JSON, a value that is not an object, a
missing or non-string text, a missing or unusable id) raise an :class:`InputError`
naming ``file:line[:column]``, or are counted and skipped under
``on_error='skip'``. Blank lines are ignored; a UTF-8 byte-order mark at the start
of the file is dropped.

Not handled: JSON arrays spanning the file (``[{...}, {...}]``; the error says so),
records nested under another key, and other encodings than UTF-8.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpusmap.errors import InputError
from corpusmap.sources.compression import (
    ByteMeter,
    corrupt_file_error,
    decompression_errors,
    open_binary,
)
from corpusmap.sources.document import Document
from corpusmap.sources.options import (
    SKIP_HINT,
    ReadOptions,
    id_problem,
    id_string,
    is_empty,
    text_problem,
    type_name,
)

_MISSING = object()
_METER_EVERY = 8192  # lines between updates of stats.bytes_read
_BOM = b"\xef\xbb\xbf"
_ARRAY_HINT = (
    " (this looks like a JSON array: corpusmap reads .json files as JSON Lines, "
    "one object per line)"
)


def read_jsonl(path: Path, opts: ReadOptions) -> Iterator[Document]:
    """Yield the documents of one JSON Lines file (``.jsonl``/``.json``/``.ndjson``, maybe
    ``.gz``/``.zst``).

    Args:
        path: the file to read.
        opts: field names, error policy and counters.
    """
    source = str(path)
    for lineno, record in iter_json_objects(path, opts):
        doc = _to_document(record, source, lineno, opts)
        if doc is not None:
            yield doc


def iter_json_objects(
    path: Path, opts: ReadOptions, hint: str = SKIP_HINT
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for every non-blank line of a JSON Lines file.

    Bad lines go through ``opts.bad_record`` (raised or skipped); a file that stops
    decompressing part way raises, naming the last line read whole.

    Args:
        path: the file to read.
        opts: error policy and counters (``files``, ``bytes_read``).
        hint: what a bad-line message tells the user to do.
    """
    source = str(path)
    stats = opts.stats
    stats.files += 1
    lineno = 0
    with open_binary(path) as (stream, raw):
        meter = ByteMeter(raw, stats)
        try:
            for lineno, line in enumerate(stream, 1):
                if lineno % _METER_EVERY == 0:
                    meter.update()
                if lineno == 1 and line.startswith(_BOM):
                    line = line[len(_BOM) :]
                if line.isspace() or not line:
                    continue
                record = _parse_line(line, source, lineno, opts, hint)
                if record is not None:
                    yield lineno, record
        except decompression_errors() as exc:
            raise corrupt_file_error(path, exc, lineno) from exc
        meter.update()


def _parse_line(line: bytes, source: str, lineno: int, opts: ReadOptions, hint: str) -> dict | None:
    """Decode and parse one line; None when it is bad and skipped."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = line[exc.start : exc.start + 1].hex()
        opts.bad_record(
            InputError(
                source,
                f"invalid UTF-8 (byte 0x{bad} at byte column {exc.start + 1}); "
                f"re-encode the file as UTF-8, {hint}",
                lineno,
                exc.start + 1,
            )
        )
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        hint_array = _ARRAY_HINT if lineno == 1 and text.lstrip().startswith("[") else ""
        opts.bad_record(
            InputError(
                source,
                f"malformed JSON: {exc.msg}{hint_array}; {hint}",
                lineno,
                exc.colno,
            )
        )
        return None
    if not isinstance(record, dict):
        hint_array = _ARRAY_HINT if lineno == 1 and isinstance(record, list) else ""
        opts.bad_record(
            InputError(
                source,
                f"expected a JSON object, found {type_name(record)}{hint_array}; {hint}",
                lineno,
            )
        )
        return None
    return record


def _to_document(
    record: dict[str, Any], source: str, lineno: int, opts: ReadOptions
) -> Document | None:
    """Turn a parsed record into a Document; None when it is bad (skipped) or empty."""
    # subtle: pop the text and id out of the record we own, so what is left is the meta
    text = record.pop(opts.text_field, _MISSING)
    if text is _MISSING:
        fields = ", ".join(repr(k) for k in record) or "none"
        opts.bad_record(
            InputError(
                source,
                f"record has no {opts.text_field!r} field (fields: {fields}); "
                f"pass --text-field NAME, or {SKIP_HINT}",
                lineno,
            )
        )
        return None
    problem = text_problem(text, opts.text_field)
    if problem is not None:
        opts.bad_record(InputError(source, problem, lineno))
        return None
    doc_id = None
    if opts.id_field is not None:
        raw_id = record.pop(opts.id_field, _MISSING)
        if raw_id is _MISSING:
            fields = ", ".join(repr(k) for k in [opts.text_field, *record])
            opts.bad_record(
                InputError(
                    source,
                    f"record has no id field {opts.id_field!r} (fields: {fields}); "
                    f"pass --id-field NAME, or {SKIP_HINT}",
                    lineno,
                )
            )
            return None
        doc_id = id_string(raw_id)
        if doc_id is None:
            opts.bad_record(InputError(source, id_problem(raw_id, opts.id_field), lineno))
            return None
    if is_empty(text):
        opts.stats.empty_skipped += 1
        return None
    return Document(text=text, source=source, row=lineno, id=doc_id, meta=record)
