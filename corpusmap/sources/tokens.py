"""Pre-tokenized corpora: flat arrays of token ids split into documents at an EOD id.

Two layouts, both one long 1-D array of ids with an end-of-document id between
documents (as OLMo, Pythia and nanoGPT-style pipelines write them):

* ``.npy``: opened with ``np.load(mmap_mode="r")``; the dtype is the file's own
  (any integer type).
* raw ``.u16`` / ``.u32`` / ``.bin``: little-endian ids mapped with ``np.memmap``;
  the extension gives the width, a ``.bin`` needs ``token_dtype`` (``--token-dtype``).

The algorithm: scan ``chunk_tokens`` ids at a time, find the EOD positions in the
chunk with one vectorised comparison, and cut documents between them. A document
that runs past the end of a chunk is kept as pieces until its EOD turns up in a
later chunk, so memory holds one chunk of comparisons plus the longest document,
never the file. The EOD ids themselves are dropped. ``row`` is the 1-based
document number: the ``k``-th document is what lies between EOD ``k - 1`` and EOD
``k``. Two EODs in a row make an empty document, which is skipped and counted
(it still takes a number). Ids after the last EOD form a final document; a file
ending in an EOD has no empty document after it.

Not handled: index files that carry document boundaries separately (Megatron
``.idx``/``.bin`` pairs), big-endian files, and 2-D (fixed-length) arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from corpusmap.errors import CorpusmapError, InputError
from corpusmap.sources.document import Document
from corpusmap.sources.options import ReadOptions

RAW_SUFFIXES: dict[str, np.dtype | None] = {
    ".bin": None,
    ".u16": np.dtype("<u2"),
    ".u32": np.dtype("<u4"),
}
_DTYPE_NAMES: dict[str, np.dtype] = {
    "u16": np.dtype("<u2"),
    "uint16": np.dtype("<u2"),
    "u32": np.dtype("<u4"),
    "uint32": np.dtype("<u4"),
}


def parse_token_dtype(name: str | None) -> np.dtype | None:
    """The numpy dtype for a ``--token-dtype`` value (``"u16"`` or ``"u32"``), or None."""
    if name is None:
        return None
    try:
        return _DTYPE_NAMES[name.lower()]
    except KeyError:
        raise CorpusmapError(f"token dtype must be 'u16' or 'u32', not {name!r}") from None


def raw_dtype(path: Path, token_dtype: str | None) -> np.dtype:
    """The id dtype of a raw token file, from its extension or ``token_dtype``.

    Raises:
        InputError: a ``.bin`` file with no ``token_dtype``, or one that contradicts the
            extension.
    """
    given = parse_token_dtype(token_dtype)
    from_suffix = RAW_SUFFIXES[path.suffix.lower()]
    if from_suffix is None:
        if given is None:
            raise InputError(
                str(path),
                "raw token file with no width; pass --token-dtype u16 or --token-dtype u32",
            )
        return given
    if given is not None and given != from_suffix:
        raise InputError(
            str(path),
            f"--token-dtype {token_dtype} contradicts the {path.suffix} extension; "
            "rename the file or drop --token-dtype",
        )
    return from_suffix


def require_eod(path: Path, eod_id: int | None) -> int:
    """``eod_id``, or an InputError saying to pass ``--eod-id``."""
    if eod_id is None:
        raise InputError(
            str(path),
            "pre-tokenized input needs the end-of-document id to split documents; "
            "pass --eod-id ID (the tokenizer's EOS/EOD token id)",
        )
    return eod_id


def open_tokens(path: Path, opts: ReadOptions) -> np.ndarray:
    """Map a token file without reading it: a 1-D integer array (possibly empty).

    Raises:
        InputError: a wrong shape or dtype, a raw size that is not a whole number of
            ids, or an unreadable ``.npy``.
    """
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(str(path), f"not a readable .npy file ({exc})") from exc
        if array.ndim != 1 or array.dtype.kind not in "iu":
            raise InputError(
                str(path),
                f"expected a 1-D integer array of token ids, found shape {array.shape} "
                f"and dtype {array.dtype}",
            )
        return array
    dtype = raw_dtype(path, opts.token_dtype)
    size = path.stat().st_size
    if size % dtype.itemsize:
        raise InputError(
            str(path),
            f"size {size} bytes is not a multiple of {dtype.itemsize} ({dtype.name} ids); "
            "the file is truncated or the --token-dtype is wrong",
        )
    if size == 0:  # np.memmap refuses empty files
        return np.empty(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


def read_tokens(path: Path, opts: ReadOptions) -> Iterator[Document]:
    """Yield the documents of one pre-tokenized file, split at ``opts.eod_id``.

    Each document has ``text=None`` and ``tokens`` a fresh array of the file's
    dtype (not a view of the mapping).

    Args:
        path: a ``.npy``, ``.u16``, ``.u32`` or ``.bin`` file.
        opts: ``eod_id`` (required), ``token_dtype``, ``chunk_tokens``, counters.
    """
    eod = require_eod(path, opts.eod_id)
    array = open_tokens(path, opts)
    info = np.iinfo(array.dtype)
    if not info.min <= eod <= info.max:
        raise InputError(str(path), f"--eod-id {eod} does not fit the file's {array.dtype} ids")
    source = str(path)
    stats = opts.stats
    stats.files += 1
    stats.bytes_read += path.stat().st_size - array.nbytes  # the .npy header, if any
    pending: list[np.ndarray] = []  # pieces of a document that crosses chunk boundaries
    number = 0  # documents cut so far, empty ones included
    for start in range(0, len(array), opts.chunk_tokens):
        chunk = array[start : start + opts.chunk_tokens]
        stats.bytes_read += chunk.nbytes
        cut = 0
        for end in np.flatnonzero(chunk == eod).tolist():
            number += 1
            if pending:
                tokens = np.concatenate([*pending, chunk[cut:end]])
                pending.clear()
            else:
                tokens = np.array(chunk[cut:end])  # copy: a view would pin the mapping
            cut = end + 1
            if len(tokens) == 0:
                stats.empty_skipped += 1
                continue
            yield Document(text=None, source=source, row=number, tokens=tokens)
        if cut < len(chunk):
            pending.append(np.array(chunk[cut:]))
    if pending:
        tokens = np.concatenate(pending)
        yield Document(text=None, source=source, row=number + 1, tokens=tokens)
