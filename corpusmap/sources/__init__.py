"""Streaming readers of corpus and prompt files: every input becomes :class:`Document` s.

One entry point, :func:`read_documents`, takes files and folders of any supported
format and yields documents one at a time, so memory never grows with the corpus:

* ``.jsonl``, ``.json``, ``.ndjson`` (also ``.gz``/``.zst``): :mod:`~corpusmap.sources.jsonl`;
* ``.parquet``: :mod:`~corpusmap.sources.parquet`;
* ``.arrow`` (IPC stream or file): :mod:`~corpusmap.sources.arrow`;
* a Hugging Face ``save_to_disk`` folder (no ``datasets`` needed):
  :mod:`~corpusmap.sources.hf_dataset`;
* ``.npy``, ``.u16``, ``.u32``, ``.bin`` (pre-tokenized): :mod:`~corpusmap.sources.tokens`;
* anything else: plain text, :mod:`~corpusmap.sources.text`.

Folders are walked recursively in a fixed order (:mod:`~corpusmap.sources.discover`).
Stages that need whole records with every column typed (prompt sets, generation
dumps) read them with :mod:`~corpusmap.sources.records`, through the same readers.
:func:`list_files` says which files will be read and :func:`source_fingerprint`
records them, so a resumed build can check it is reading the same input.

Every problem with the input is an :class:`~corpusmap.errors.InputError` naming
``file:line[:column]`` (or ``file:row``) and what to do. Problems with one record
obey ``on_error``; problems that make a whole file unreadable always raise.

Not handled here: tokenization (documents carry text or ready token ids),
deduplication of documents, and remote inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from corpusmap.errors import CorpusmapError
from corpusmap.sources.discover import (
    Kind,
    Sources,
    Unit,
    list_files,
    plan_units,
    source_fingerprint,
)
from corpusmap.sources.document import Document, ReadStats
from corpusmap.sources.hf_dataset import hf_splits, is_dataset_dict
from corpusmap.sources.options import ReadOptions
from corpusmap.sources.tokens import RAW_SUFFIXES, parse_token_dtype, raw_dtype, require_eod

__all__ = [
    "Document",
    "ReadOptions",
    "ReadStats",
    "list_files",
    "read_documents",
    "source_fingerprint",
]


def read_documents(
    sources: Sources,
    text_field: str = "text",
    id_field: str | None = None,
    lines: bool = False,
    on_error: Literal["raise", "skip"] = "raise",
    stats: ReadStats | None = None,
    token_dtype: str | None = None,
    eod_id: int | None = None,
    split: str | None = None,
) -> Iterator[Document]:
    """Yield the documents of every file under ``sources``, in :func:`list_files` order.

    The sources are checked before anything is read: a missing path, a ``.bin``
    file with no ``token_dtype``, pre-tokenized input with no ``eod_id``, or a
    ``split`` that no DatasetDict source has fails here, at the call, not half-way
    through the corpus.

    Args:
        sources: a file or folder, or a list of them.
        text_field: the JSONL field or Parquet/Arrow column holding the text.
        id_field: the field or column giving ``Document.id`` (as a string), if any.
        lines: plain-text files give one document per line instead of per file.
        on_error: ``"raise"`` stops at the first bad record; ``"skip"`` counts it in
            ``stats.errors_skipped`` (keeping a few messages) and goes on.
        stats: counters to fill in while iterating (documents, empty documents
            skipped, bad records skipped, files, bytes read).
        token_dtype: ``"u16"`` or ``"u32"``, the id width of raw ``.bin`` token files.
        eod_id: the end-of-document id that splits pre-tokenized files.
        split: the DatasetDict split to read (None: all splits, in saved order).
            Single Dataset folders among the sources are read whole.

    Returns:
        An iterator of documents. Documents whose text is empty or whitespace (or
        that have no tokens) are skipped and counted in ``stats.empty_skipped``.

    Raises:
        InputError: a source is missing or unusable, or a bad record under ``"raise"``
            (raised while iterating, except for the up-front checks above).
    """
    opts = ReadOptions(
        text_field=text_field,
        id_field=id_field,
        lines=lines,
        on_error=on_error,
        stats=stats if stats is not None else ReadStats(),
        token_dtype=token_dtype,
        eod_id=eod_id,
        split=split,
    )
    units = plan_units(sources)
    _check_up_front(units, opts)
    return _iterate(units, opts)


def read_unit(unit: Unit, opts: ReadOptions) -> Iterator[Document]:
    """The documents of one unit from :func:`~corpusmap.sources.discover.plan_units`.

    Fills in ``opts.stats`` except ``documents``, which :func:`read_documents` counts.
    """
    return _reader(unit.kind)(unit.path, opts)


def _iterate(units: list[Unit], opts: ReadOptions) -> Iterator[Document]:
    stats = opts.stats
    for unit in units:
        for doc in read_unit(unit, opts):
            stats.documents += 1
            yield doc


def _check_up_front(units: list[Unit], opts: ReadOptions) -> None:
    """Settings errors that need no reading: raised at the call, naming the file."""
    parse_token_dtype(opts.token_dtype)
    split_used = False
    for unit in units:
        if unit.kind == "tokens":
            require_eod(unit.path, opts.eod_id)
            if unit.path.suffix.lower() in RAW_SUFFIXES:
                raw_dtype(unit.path, opts.token_dtype)
        elif unit.kind == "hf" and opts.split is not None and is_dataset_dict(unit.path):
            hf_splits(unit.path, opts.split)  # raises when the split is missing
            split_used = True
    if opts.split is not None and not split_used:
        raise CorpusmapError(
            f"--split {opts.split} applies to DatasetDict folders (with dataset_dict.json), "
            "and no source is one; leave --split out"
        )


def _reader(kind: Kind) -> Callable[[Path, ReadOptions], Iterator[Document]]:
    # imported here so that importing corpusmap.sources stays cheap (pyarrow is slow)
    if kind == "jsonl":
        from corpusmap.sources.jsonl import read_jsonl

        return read_jsonl
    if kind == "parquet":
        from corpusmap.sources.parquet import read_parquet

        return read_parquet
    if kind == "arrow":
        from corpusmap.sources.arrow import read_arrow

        return read_arrow
    if kind == "hf":
        from corpusmap.sources.hf_dataset import read_hf

        return read_hf
    if kind == "tokens":
        from corpusmap.sources.tokens import read_tokens

        return read_tokens
    from corpusmap.sources.text import read_text

    return read_text
