"""Exceptions raised by corpusmap.

Every error a user can cause is a :class:`CorpusmapError` whose message says what
was wrong, where (file, line or row, column) and what to do about it. The CLI turns
these into one ``error: ...`` line and a non-zero exit; anything else is a bug.
"""

from __future__ import annotations


class CorpusmapError(Exception):
    """Base class for errors caused by input, configuration or files on disk."""


class InputError(CorpusmapError):
    """Bad input data: names the file and the line/row where it was found.

    Args:
        path: the file being read.
        message: what is wrong and what to do.
        line: 1-based line number (JSONL/text) or row number (Parquet/Arrow), if known.
        column: 1-based column (character) within the line, if known.
    """

    def __init__(
        self, path: str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.path = str(path)
        self.message = message
        self.line = line
        self.column = column
        where = self.path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple:
        """Pickled with its own arguments (a Ray task hands it back to the driver)."""
        return (type(self), (self.path, self.message, self.line, self.column))


class NoDocumentsError(CorpusmapError):
    """The inputs of a build gave no document; the caller adds which inputs they were."""


class IndexFormatError(CorpusmapError):
    """An index folder is missing, half-written, corrupt or of another format version."""


class IndexCorruptError(IndexFormatError):
    """An index file's bytes differ from the checksums written when it was built."""


class TokenizerMismatchError(CorpusmapError):
    """An index was opened with a tokenizer other than the one it was built with."""


class MissingDependencyError(CorpusmapError):
    """An optional dependency is not installed; the message carries the pip command."""


def require(module: str, extra: str, package: str | None = None) -> object:
    """Import an optional dependency or fail with the exact install hint.

    Args:
        module: the module to import, e.g. ``"transformers"``.
        extra: the corpusmap extra that provides it, e.g. ``"gen"``.
        package: the PyPI name when it differs from the module name.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = package or module
        raise MissingDependencyError(
            f"{module} is not installed; run `pip install 'corpusmap[{extra}]'` "
            f"(or `pip install {pkg}`)"
        ) from exc
