"""The unit every reader yields: one document with where it came from.

A document carries either text (to be tokenized with the index's tokenizer) or
token ids (pre-tokenized corpora such as OLMo/Pythia-style ``.npy`` memmaps).
``source`` and ``row`` say where it was read (file and 1-based line/row), so an
error or a search result can always point back to the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(slots=True)
class Document:
    """One corpus document.

    Attributes:
        text: the document text, or None for a pre-tokenized document.
        tokens: token ids for a pre-tokenized document, else None.
        source: the file (or folder) it was read from.
        row: 1-based line (JSONL/text) or row (Parquet/Arrow) number in ``source``.
        id: the value of the id field, when one was named.
        meta: the remaining fields of the record (JSON-serialisable values).
    """

    text: str | None
    source: str
    row: int
    id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    tokens: np.ndarray | None = None


@dataclass(slots=True)
class ReadStats:
    """Counts kept while reading, reported by the build and stored in the manifest."""

    documents: int = 0
    empty_skipped: int = 0
    errors_skipped: int = 0
    bytes_read: int = 0
    files: int = 0
    error_examples: list[str] = field(default_factory=list)

    def skip_error(self, message: str) -> None:
        """Count a bad record skipped under ``on_error='skip'``, keeping a few examples."""
        self.errors_skipped += 1
        if len(self.error_examples) < 10:
            self.error_examples.append(message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "empty_skipped": self.empty_skipped,
            "errors_skipped": self.errors_skipped,
            "bytes_read": self.bytes_read,
            "files": self.files,
            "error_examples": list(self.error_examples),
        }
