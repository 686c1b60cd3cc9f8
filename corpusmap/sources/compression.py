"""Open a possibly compressed file as a stream of bytes, and meter how much was read.

``.gz`` files are read with :mod:`gzip`, ``.zst``/``.zstd`` files with
``zstandard`` (across all frames, so files written by parallel compressors are
read whole); anything else is read as it is. The returned stream is buffered, so
iterating over it yields lines without holding the file in memory.

:class:`ByteMeter` turns the position in the *underlying* file into
``ReadStats.bytes_read``, so progress is counted in bytes on disk whether or not
the file is compressed.

Not handled: other codecs (bz2, xz, lz4), and compressed Parquet/Arrow files,
which compress internally.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from corpusmap.errors import InputError
from corpusmap.sources.document import ReadStats

COMPRESSED_SUFFIXES = (".gz", ".zst", ".zstd")


def compression_of(path: Path) -> str | None:
    """``"gzip"``, ``"zstd"`` or None, from the file's last extension."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return "gzip"
    if suffix in (".zst", ".zstd"):
        return "zstd"
    return None


def inner_suffix(path: Path) -> str:
    """The extension under any compression suffix: ``a.jsonl.gz`` -> ``.jsonl``."""
    if compression_of(path) is not None:
        return Path(path.stem).suffix.lower()
    return path.suffix.lower()


@contextmanager
def open_binary(path: Path) -> Iterator[tuple[IO[bytes], BinaryIO]]:
    """Open ``path`` for reading, decompressing by extension.

    Yields:
        ``(stream, raw)``: the decompressed, buffered stream to read, and the raw
        file underneath it (whose ``tell()`` is the number of bytes consumed on disk).
    """
    raw = open(path, "rb")  # noqa: SIM115 -- closed below, after the wrapper
    try:
        kind = compression_of(path)
        stream: IO[bytes]
        if kind == "gzip":
            stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        elif kind == "zstd":
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
            stream = io.BufferedReader(reader, buffer_size=1 << 20)  # type: ignore[arg-type]
        else:
            stream = raw
        yield stream, raw
    finally:
        raw.close()


def decompression_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a truncated or corrupt compressed stream raises while read."""
    errors: list[type[BaseException]] = [EOFError, zlib.error, gzip.BadGzipFile]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:  # pragma: no cover - zstandard is a core dependency
        pass
    return tuple(errors)


def corrupt_file_error(path: Path, exc: BaseException, after_line: int) -> InputError:
    """The error for a compressed file that stopped decompressing part way."""
    return InputError(
        str(path),
        f"could not decompress after line {after_line} ({type(exc).__name__}: {exc}); "
        "the file is truncated or corrupt, re-download or re-compress it",
    )


class ByteMeter:
    """Adds the bytes consumed from a raw file to ``stats.bytes_read`` as reading goes.

    Call :meth:`update` every so often (it costs one ``tell()``) and once at the end.
    """

    __slots__ = ("_last", "_raw", "_stats")

    def __init__(self, raw: BinaryIO, stats: ReadStats) -> None:
        self._raw = raw
        self._stats = stats
        self._last = 0

    def update(self) -> None:
        """Count the bytes read from the raw file since the last update."""
        position = self._raw.tell()
        self._stats.bytes_read += position - self._last
        self._last = position
