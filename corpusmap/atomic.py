"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file corpusmap publishes (Parquet parts, manifests, prompt sets, report pages
and plots, caches) is written the same way, here:

1. write to a hidden temp sibling, ``.NAME.XXXXXXXX.tmp`` in the same folder (the
   same file system, so the rename is atomic; the leading dot keeps it out of
   ``*.parquet`` globs, and the random part lets two writers of one target not
   share a temp file);
2. flush and ``fsync`` the temp file, so its bytes are on disk before its name is;
3. ``os.replace`` it onto ``NAME`` (atomic on POSIX: readers see old or new);
4. ``fsync`` the folder, so the rename itself survives a power cut.

If the writing code raises, the temp file is removed and ``NAME`` is untouched. A
process killed outright (SIGKILL, power cut) can leave a hidden ``.NAME.*.tmp``
behind but never a partial ``NAME``; :func:`remove_temps` clears such leftovers
for a stage that resumes in a folder it owns.

Use :func:`write_bytes`, :func:`write_text`, :func:`write_json` or
:func:`write_parquet` for data in memory, and :func:`atomic_path` for writers that
want a path of their own (``Figure.savefig``, ``pq.ParquetWriter``).

Left out: creating parent folders (callers decide where output may go), file
locking between writers (the last ``os.replace`` wins; :mod:`corpusmap.generation.store`
holds its own lock), Windows semantics, and publishing whole folders (the index
build renames its ``.NAME.building`` folder itself, using :func:`fsync_dir`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

TEMP_SUFFIX = ".tmp"


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (new names, renames) to disk."""
    _fsync(path)


def _fsync(path: str | os.PathLike[str]) -> None:
    """``fsync`` a file or folder by path (Linux flushes whichever descriptor wrote it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(path: Path) -> Path:
    """A fresh hidden sibling name for writing ``path``: ``.NAME.<8 hex>.tmp``."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path to write; on a clean exit, publish it as ``path``.

    The temp file exists (empty) when the block starts. On a clean exit it is
    fsynced, renamed onto ``path`` and the folder fsynced; if the block raises, it
    is removed and the exception goes on.

    Example::

        with atomic_path(out / "plot.png") as tmp:
            fig.savefig(tmp, format="png")
    """
    target = Path(path)
    tmp = temp_name(target)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(
    path: str | os.PathLike[str], data: Any, *, indent: int | None = 2, sort_keys: bool = True
) -> None:
    """Write ``data`` as JSON (UTF-8, ``indent`` and ``sort_keys`` as :func:`json.dumps`)."""
    write_text(path, json.dumps(data, indent=indent, sort_keys=sort_keys))


def write_parquet(path: str | os.PathLike[str], table: pa.Table, **options: Any) -> None:
    """Write ``table`` as one Parquet file atomically.

    Args:
        path: the target file.
        table: the rows.
        **options: passed to :func:`pyarrow.parquet.write_table` (``compression``...).
    """
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        pq.write_table(table, f, **options)


def remove_temps(folder: str | os.PathLike[str], pattern: str = "*") -> int:
    """Delete the temp files a killed writer left for targets matching ``pattern``.

    Only call this where no other process is writing (e.g. under the folder's lock).

    Returns:
        How many files were removed.
    """
    removed = 0
    for tmp in Path(folder).glob(f".{pattern}*{TEMP_SUFFIX}"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed
