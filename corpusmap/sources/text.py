"""Plain-text reader: a whole file as one document, or one document per line.

Used for every file no other reader claims (``.txt``, ``.md``, no extension, ...),
also when gzip/zstandard compressed. Text is decoded as strict UTF-8; a byte that
does not decode is reported with its 1-based line and byte column. A UTF-8
byte-order mark at the start of the file is dropped.

* Whole-file mode (default): the file is one document with ``row=1``. It is read
  into memory whole, as a single document has to be.
* ``lines=True``: each line is a document whose ``row`` is its line number; lines
  are streamed, and their ``\\n`` or ``\\r\\n`` ending is stripped. Blank lines are
  empty documents (counted in ``stats.empty_skipped``).

Not handled: other encodings (convert first, e.g. ``iconv -t utf-8``) and
paragraph splitting.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpusmap.errors import InputError
from corpusmap.sources.compression import (
    ByteMeter,
    corrupt_file_error,
    decompression_errors,
    open_binary,
)
from corpusmap.sources.document import Document
from corpusmap.sources.options import SKIP_HINT, ReadOptions, is_empty

_BOM = b"\xef\xbb\xbf"
_METER_EVERY = 8192


def read_text(path: Path, opts: ReadOptions) -> Iterator[Document]:
    """Yield the documents of one plain-text file (see the module docstring for modes).

    Args:
        path: the file to read.
        opts: ``lines`` picks the mode; error policy and counters.
    """
    if opts.lines:
        yield from _read_lines(path, opts)
    else:
        yield from _read_whole(path, opts)


def _read_whole(path: Path, opts: ReadOptions) -> Iterator[Document]:
    source = str(path)
    opts.stats.files += 1
    with open_binary(path) as (stream, raw):
        try:
            data = stream.read()
        except decompression_errors() as exc:
            raise corrupt_file_error(path, exc, 0) from exc
        opts.stats.bytes_read += raw.tell()
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        opts.bad_record(_utf8_error(source, data[exc.start], line, column))
        return
    if is_empty(text):
        opts.stats.empty_skipped += 1
        return
    yield Document(text=text, source=source, row=1)


def _read_lines(path: Path, opts: ReadOptions) -> Iterator[Document]:
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
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad = _utf8_error(source, line[exc.start], lineno, exc.start + 1)
                    opts.bad_record(bad)
                    continue
                # subtle: strip exactly one line ending; other trailing whitespace is text
                if text.endswith("\n"):
                    text = text[:-2] if text.endswith("\r\n") else text[:-1]
                if is_empty(text):
                    stats.empty_skipped += 1
                    continue
                yield Document(text=text, source=source, row=lineno)
        except decompression_errors() as exc:
            raise corrupt_file_error(path, exc, lineno) from exc
        meter.update()


def _utf8_error(source: str, byte: int, line: int, column: int) -> InputError:
    return InputError(
        source,
        f"invalid UTF-8 (byte 0x{byte:02x} at byte column {column}); "
        f"re-encode the file as UTF-8 (e.g. iconv -t utf-8), {SKIP_HINT}",
        line,
        column,
    )
