"""JSON Lines reading: round trips, compression, and every kind of bad line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import zstandard

from corpusmap.errors import InputError
from corpusmap.sources import ReadStats, read_documents

RECORDS: list[dict[str, Any]] = [
    {"id": 7, "text": "the first document", "lang": "en", "score": 0.5},
    {"id": "b", "text": "zweites Dokument, ünïcödé", "lang": "de", "tags": ["x", None]},
    {"id": 9, "text": "third", "nested": {"a": 1}},
]


def write_jsonl(path: Path, lines: list[str | bytes]) -> Path:
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    path.write_bytes(data)
    return path


def test_round_trip_text_id_meta_rows(tmp_path: Path) -> None:
    """Blank lines still count as lines: record 3 sits on line 4."""
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [json.dumps(RECORDS[0]), json.dumps(RECORDS[1]), "   ", json.dumps(RECORDS[2])],
    )
    stats = ReadStats()
    docs = list(read_documents(path, id_field="id", stats=stats))
    assert [d.text for d in docs] == [r["text"] for r in RECORDS]
    assert [d.id for d in docs] == ["7", "b", "9"]
    assert [d.row for d in docs] == [1, 2, 4]
    assert {d.source for d in docs} == {str(path)}
    assert docs[0].meta == {"lang": "en", "score": 0.5}
    assert docs[1].meta == {"lang": "de", "tags": ["x", None]}
    assert docs[2].meta == {"nested": {"a": 1}}
    assert all(d.tokens is None for d in docs)
    assert (stats.documents, stats.files, stats.errors_skipped) == (3, 1, 0)
    assert stats.bytes_read == path.stat().st_size


def test_without_id_field_the_id_stays_in_meta(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.ndjson", [json.dumps(RECORDS[0])])
    (doc,) = read_documents(path)
    assert doc.id is None
    assert doc.meta == {"id": 7, "lang": "en", "score": 0.5}


def test_other_text_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.json", ['{"prompt": "hello", "text": 3}'])
    (doc,) = read_documents(path, text_field="prompt")
    assert doc.text == "hello"
    assert doc.meta == {"text": 3}


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".json.zst"])
def test_compressed(tmp_path: Path, suffix: str) -> None:
    raw = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
    path = tmp_path / f"c{suffix}"
    if suffix.endswith(".gz"):
        path.write_bytes(gzip.compress(raw))
    else:
        # two frames, as parallel compressors write: both must be read
        half = raw.index(b"\n") + 1
        cctx = zstandard.ZstdCompressor()
        path.write_bytes(cctx.compress(raw[:half]) + cctx.compress(raw[half:]))
    stats = ReadStats()
    docs = list(read_documents(path, stats=stats))
    assert [d.text for d in docs] == [r["text"] for r in RECORDS]
    assert [d.row for d in docs] == [1, 2, 3]
    assert stats.bytes_read == path.stat().st_size  # bytes on disk, not decompressed


def test_truncated_gzip_is_an_error(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in RECORDS * 50))
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"t\.jsonl\.gz: could not decompress.*truncated"):
        list(read_documents(path))


def test_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bom.jsonl", [b"\xef\xbb\xbf" + b'{"text": "x"}'])
    assert [d.text for d in read_documents(path)] == ["x"]


def test_empty_documents_are_counted(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "e.jsonl", ['{"text": ""}', '{"text": " \\n\\t"}', '{"text": "kept"}']
    )
    stats = ReadStats()
    docs = list(read_documents(path, stats=stats))
    assert [(d.text, d.row) for d in docs] == [("kept", 3)]
    assert (stats.empty_skipped, stats.documents) == (2, 1)


# Each bad line sits on line 2 after one good line; the expected message prefix is
# file:line[:column] with the column where it is known.
BAD_LINES = [
    (b'{"text": "ok", }', ":2:16: malformed JSON: Expecting property name"),
    (b'{"text": "caf\xff"}', ":2:14: invalid UTF-8 (byte 0xff at byte column 14)"),
    (b'["text", "x"]', ":2: expected a JSON object, found array"),
    (b"42", ":2: expected a JSON object, found number"),
    (b'{"body": "x", "n": 1}', ":2: record has no 'text' field (fields: 'body', 'n')"),
    (b'{"text": 17}', ":2: field 'text' is number, expected a string"),
    (b'{"text": null}', ":2: field 'text' is null, expected a string"),
    (b'{"text": ["a"]}', ":2: field 'text' is array, expected a string"),
]


@pytest.mark.parametrize(("bad", "expected"), BAD_LINES)
def test_bad_line_names_file_line_column(tmp_path: Path, bad: bytes, expected: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [b'{"text": "good"}', bad, b'{"text": "after"}'])
    with pytest.raises(InputError) as info:
        list(read_documents(path))
    message = str(info.value)
    assert message.startswith(str(path) + expected), message
    assert "--on-error skip" in message


@pytest.mark.parametrize(("bad", "expected"), BAD_LINES)
def test_bad_line_is_skipped_and_counted(tmp_path: Path, bad: bytes, expected: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [b'{"text": "good"}', bad, b'{"text": "after"}'])
    stats = ReadStats()
    docs = list(read_documents(path, on_error="skip", stats=stats))
    assert [(d.text, d.row) for d in docs] == [("good", 1), ("after", 3)]
    assert stats.errors_skipped == 1
    assert stats.error_examples[0].startswith(str(path) + expected)


def test_id_field_problems(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "ids.jsonl",
        ['{"text": "a", "id": 1}', '{"text": "b"}', '{"text": "c", "id": 1.5}'],
    )
    with pytest.raises(InputError, match=r"ids\.jsonl:2: record has no id field 'id' \(fields:"):
        list(read_documents(path, id_field="id"))
    stats = ReadStats()
    docs = list(read_documents(path, id_field="id", on_error="skip", stats=stats))
    assert [d.id for d in docs] == ["1"]
    assert stats.errors_skipped == 2
    assert ":3: id field 'id' is number, expected a string or integer" in stats.error_examples[1]


def test_json_array_file_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "array.json"
    path.write_text(json.dumps(RECORDS))
    with pytest.raises(InputError, match=r"array\.json:1: .*looks like a JSON array"):
        list(read_documents(path))


def test_streams_line_by_line(tmp_path: Path) -> None:
    """The first document comes out before a bad line further down is even read,
    and reading a 3 MB file never holds more than a small fraction of it."""
    import tracemalloc

    path = tmp_path / "big.jsonl"
    line = json.dumps({"text": "word " * 200}) + "\n"
    path.write_text(line * 3000 + "not json\n")
    first = next(iter(read_documents(path)))
    assert first.row == 1
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_documents(path, on_error="skip"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 3000
    assert peak < path.stat().st_size / 10
