"""Open a possibly compressed file as a stream of bytes, and meter how much was read.

``.gz`` files are read with :mod:`gzip`, ``.zst``/``.zstd`` files with
``zstandard`` (across all frames, so files written by parallel compressors are
read whole); anything else is read as it is. The returned stream is buffered, so
iterating over it yields lines without holding the file in memory.

A compressed file that ends part way (a copy cut short) is an error, never a
short read: :mod:`gzip` raises ``EOFError`` itself, and :class:`ZstdFrames` raises
``zstandard.ZstdError`` when the file ends inside a frame (``zstandard``'s own
stream reader returns a silent end of file there). Readers turn these into
:func:`corrupt_file_error`, naming the file and the last line read whole.

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
from typing import IO, Any, BinaryIO

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
            stream = io.BufferedReader(ZstdFrames(raw), buffer_size=1 << 20)
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


class ZstdFrames(io.RawIOBase):
    """The decompressed bytes of every zstd frame in ``raw``, failing on a cut-short file.

    Input is fed to one ``decompressobj`` per frame in ``_CHUNK`` blocks; when a frame
    ends, the bytes after it start the next one. End of input inside a frame raises
    ``zstandard.ZstdError``.
    """

    _CHUNK = 1 << 14  # compressed bytes per step (the fastest of 4 KiB to 4 MiB measured)

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        self._zstd = zstandard
        self._dctx = zstandard.ZstdDecompressor()
        self._raw = raw
        self._frame: Any = None  # the decompressobj of the frame in progress
        self._out = memoryview(b"")  # decompressed by the last step
        self._pos = 0  # how much of it was returned
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._pos == len(self._out) and not self._done:
            self._out = memoryview(self._step())
            self._pos = 0
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = self._out[self._pos : self._pos + n]
        self._pos += n
        return n

    def _step(self) -> bytes:
        """Decompress the next block of input (b"" at the end, or for a block of headers)."""
        data = self._raw.read(self._CHUNK)
        if not data:
            if self._frame is not None:
                raise self._zstd.ZstdError("the file ends inside a zstd frame")
            self._done = True
            return b""
        pieces = []
        while data:
            if self._frame is None:
                self._frame = self._dctx.decompressobj(write_size=1 << 20)
            pieces.append(self._frame.decompress(data))
            if not self._frame.eof:
                break
            data = self._frame.unused_data
            self._frame = None
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)
