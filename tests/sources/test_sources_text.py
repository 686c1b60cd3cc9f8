"""Plain-text reading: whole files, one document per line, and bad UTF-8."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from corpusmap.errors import InputError
from corpusmap.sources import ReadStats, read_documents


def test_whole_file_is_one_document(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Title\n\nBody line.\n", encoding="utf-8")
    stats = ReadStats()
    (doc,) = read_documents(path, stats=stats)
    assert (doc.text, doc.source, doc.row, doc.id, doc.meta) == (
        "# Title\n\nBody line.\n",
        str(path),
        1,
        None,
        {},
    )
    assert (stats.files, stats.documents, stats.bytes_read) == (1, 1, path.stat().st_size)


def test_file_without_extension_is_text(tmp_path: Path) -> None:
    path = tmp_path / "README"
    path.write_bytes(b"\xef\xbb\xbfhello")  # the BOM is not part of the text
    assert [d.text for d in read_documents(path)] == ["hello"]


def test_lines_mode_strips_endings_and_counts_blank_lines(tmp_path: Path) -> None:
    """Line 3 is blank and line 4 is whitespace: both empty documents, both counted."""
    path = tmp_path / "prompts.txt"
    path.write_bytes(b"first\r\nsecond  \n\n \t\nlast without newline")
    stats = ReadStats()
    docs = list(read_documents(path, lines=True, stats=stats))
    assert [(d.text, d.row) for d in docs] == [
        ("first", 1),
        ("second  ", 2),
        ("last without newline", 5),
    ]
    assert (stats.empty_skipped, stats.documents) == (2, 3)
    assert stats.bytes_read == path.stat().st_size


def test_compressed_text(tmp_path: Path) -> None:
    path = tmp_path / "book.txt.gz"
    path.write_bytes(gzip.compress(b"a\nb\n"))
    assert [d.text for d in read_documents(path)] == ["a\nb\n"]
    assert [d.text for d in read_documents(path, lines=True)] == ["a", "b"]


def test_empty_file_is_counted_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("   \n")
    stats = ReadStats()
    assert list(read_documents(path, stats=stats)) == []
    assert stats.empty_skipped == 1


def test_bad_utf8_whole_file_names_line_and_byte_column(tmp_path: Path) -> None:
    """The bad byte is the 4th byte of line 2: 'ab' + 'é' (2 bytes) come first."""
    path = tmp_path / "latin1.txt"
    path.write_bytes("line one\nabé".encode() + b"\xe9 rest\n")
    with pytest.raises(InputError) as info:
        list(read_documents(path))
    assert str(info.value).startswith(f"{path}:2:5: invalid UTF-8 (byte 0xe9 at byte column 5)")
    stats = ReadStats()
    assert list(read_documents(path, on_error="skip", stats=stats)) == []
    assert stats.errors_skipped == 1


def test_bad_utf8_in_lines_mode_skips_only_that_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"good\n\xffbad\nalso good\n")
    with pytest.raises(InputError, match=r"mixed\.txt:2:1: invalid UTF-8 \(byte 0xff"):
        list(read_documents(path, lines=True))
    stats = ReadStats()
    docs = list(read_documents(path, lines=True, on_error="skip", stats=stats))
    assert [(d.text, d.row) for d in docs] == [("good", 1), ("also good", 3)]
    assert stats.errors_skipped == 1
