"""The settings every reader shares, and the one place bad records are raised or skipped.

:func:`corpusmap.sources.read_documents` builds one :class:`ReadOptions` from its
arguments and hands it to each reader, so a reader's signature is always
``(path, opts) -> Iterator[Document]``. Record-level problems (a malformed line, a
null text) go through :meth:`ReadOptions.bad_record`, which raises or counts them
according to ``on_error``; problems that make a whole file unusable (a missing
column, a raw token file of odd size) are raised directly by the readers.

This module also holds the small checks every record-based reader applies to a
text and an id value. It does not open files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from corpusmap.errors import CorpusmapError, InputError
from corpusmap.sources.document import ReadStats

OnError = Literal["raise", "skip"]

SKIP_HINT = "fix the record or pass --on-error skip"

DEFAULT_CHUNK_TOKENS = 16 * 1024 * 1024
DEFAULT_BATCH_ROWS = 8192


@dataclass(slots=True)
class ReadOptions:
    """How to read: field names, error policy, pre-tokenized settings, counters.

    Attributes:
        text_field: the record field (JSONL) or column (Parquet/Arrow) holding the text.
        id_field: the field or column giving ``Document.id``, or None for no id.
        lines: plain-text files give one document per line instead of per file.
        on_error: ``"raise"`` stops at the first bad record; ``"skip"`` counts and skips it.
        stats: counters filled in while reading.
        token_dtype: ``"u16"`` or ``"u32"`` for raw ``.bin`` token files.
        eod_id: the end-of-document id that splits pre-tokenized files.
        split: the DatasetDict split to read (None: all splits in order).
        chunk_tokens: tokens scanned per step in pre-tokenized files (bounds memory).
        batch_rows: rows per record batch read from Parquet files.
    """

    text_field: str = "text"
    id_field: str | None = None
    lines: bool = False
    on_error: OnError = "raise"
    stats: ReadStats = field(default_factory=ReadStats)
    token_dtype: str | None = None
    eod_id: int | None = None
    split: str | None = None
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    batch_rows: int = DEFAULT_BATCH_ROWS

    def __post_init__(self) -> None:
        if self.on_error not in ("raise", "skip"):
            raise CorpusmapError(f"on_error must be 'raise' or 'skip', not {self.on_error!r}")
        if self.id_field is not None and self.id_field == self.text_field:
            raise CorpusmapError(f"the id field and the text field are both {self.id_field!r}")
        if self.chunk_tokens < 1 or self.batch_rows < 1:
            raise CorpusmapError("chunk_tokens and batch_rows must be positive")

    def bad_record(self, error: InputError) -> None:
        """Raise ``error``, or under ``on_error='skip'`` count it and return.

        The caller skips the record when this returns.
        """
        if self.on_error == "raise":
            raise error
        self.stats.skip_error(str(error))


def type_name(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages ("null", "number", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def text_problem(value: Any, text_field: str) -> str | None:
    """Why ``value`` is not usable as document text, or None when it is a string."""
    if isinstance(value, str):
        return None
    return (
        f"field {text_field!r} is {type_name(value)}, expected a string; "
        f"pass --text-field NAME to read another field, or {SKIP_HINT}"
    )


def id_string(value: Any) -> str | None:
    """An id value as ``Document.id``: strings as they are, integers in decimal.

    Returns None for anything else (null, floats, arrays, objects), which the
    caller reports as a bad record.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def id_problem(value: Any, id_field: str) -> str:
    """The message for an id value :func:`id_string` rejected."""
    return f"id field {id_field!r} is {type_name(value)}, expected a string or integer; {SKIP_HINT}"


def is_empty(text: str) -> bool:
    """Whether a text is an empty document (empty or whitespace only)."""
    return not text or text.isspace()
