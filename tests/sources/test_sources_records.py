"""Whole records from JSONL/Parquet/Arrow, and compressed files that end part way."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
import zstandard

from corpusmap.errors import InputError
from corpusmap.sources import read_documents
from corpusmap.sources.compression import open_binary
from corpusmap.sources.records import iter_records, read_table, record_kind

ROWS = [{"text": f"line {i} " + "word " * (i % 7), "n": i, "tag": None} for i in range(3000)]


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _write(path: Path, data: bytes) -> Path:
    if path.suffix == ".gz":
        data = gzip.compress(data)
    elif path.suffix == ".zst":
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["r.jsonl", "r.jsonl.gz", "r.jsonl.zst", "r.ndjson.zst"])
def test_records_are_the_lines_parsed_one_by_one(tmp_path, name):
    path = _write(tmp_path / name, _jsonl(ROWS[:5]) + b"\n" + _jsonl(ROWS[5:9]))
    assert record_kind(path) == "jsonl"
    got = list(iter_records(path))
    assert [line for line, _ in got] == [1, 2, 3, 4, 5, 7, 8, 9, 10]  # the blank line counts
    assert [rec for _, rec in got] == ROWS[:9]


def test_multi_frame_zstd_is_read_whole(tmp_path):
    """Parallel compressors (zstd -T, pzstd) write one frame per block: all are read."""
    data = np.random.default_rng(0).integers(0, 256, size=3_000_000, dtype=np.uint8).tobytes()
    cut = [0, 1, 700_000, 2_999_999, 3_000_000]
    frames = b"".join(
        zstandard.ZstdCompressor(level=1).compress(data[a:b]) for a, b in itertools.pairwise(cut)
    )
    (tmp_path / "x.bin.zst").write_bytes(frames)
    with open_binary(tmp_path / "x.bin.zst") as (stream, _):
        assert stream.read() == data


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
@pytest.mark.parametrize("keep", [0.5, 0.95])
def test_cut_short_file_is_an_error_naming_file_and_last_line(tmp_path, suffix, keep):
    """A truncated copy must fail, never read as fewer rows (zstandard's own stream
    reader ends silently there)."""
    whole = _write(tmp_path / f"w.jsonl{suffix}", _jsonl(ROWS))
    path = tmp_path / f"cut.jsonl{suffix}"
    blob = whole.read_bytes()
    path.write_bytes(blob[: int(len(blob) * keep)])
    with pytest.raises(InputError) as info:
        list(iter_records(path))
    message = str(info.value)
    assert message.startswith(f"{path}: could not decompress after line ")
    assert "truncated or corrupt" in message
    last = int(message.split("after line ")[1].split(" ")[0])
    read = []
    with pytest.raises(InputError):
        for line, rec in iter_records(path):
            read.append((line, rec))
    assert read == [(i + 1, r) for i, r in enumerate(ROWS[:last])]  # every line before is whole
    with pytest.raises(InputError, match="could not decompress"):
        list(read_documents(path))  # the index build reads through the same opener


def test_bad_line_names_file_line_column(tmp_path):
    path = _write(tmp_path / "b.jsonl.zst", b'{"a": 1}\n{"a": 2,, }\n')
    with pytest.raises(InputError, match=r"b\.jsonl\.zst:2:9: malformed JSON.*fix that line"):
        list(iter_records(path))


def test_read_table_types_and_formats(tmp_path):
    rows = [{"a": 1, "s": "x"}, {"a": None, "s": "y", "late": [1.5]}]
    jsonl = read_table(_write(tmp_path / "t.jsonl.gz", _jsonl(rows)))
    assert jsonl.column_names == ["a", "s", "late"]  # a field first seen later is kept
    assert jsonl.to_pylist() == [{**rows[0], "late": None}, rows[1]]
    assert jsonl.schema.field("a").type == pa.int64()
    table = pa.table({"s": ["x", "y"], "u": pa.array([1, 2], pa.uint16())})
    pq.write_table(table, tmp_path / "t.parquet")
    assert read_table(tmp_path / "t.parquet").equals(table)
    with ipc.new_file(tmp_path / "f.arrow", table.schema) as w:
        w.write_table(table)
    with ipc.new_stream(tmp_path / "s.arrow", table.schema) as w:
        w.write_table(table)
    assert read_table(tmp_path / "f.arrow").equals(table)
    assert read_table(tmp_path / "s.arrow").equals(table)


def test_read_table_errors(tmp_path):
    _write(tmp_path / "m.jsonl", _jsonl([{"x": 1}, {"x": "one"}]))
    with pytest.raises(InputError, match=r"m\.jsonl: field 'x' mixes value types"):
        read_table(tmp_path / "m.jsonl")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"bad\.parquet: not a readable Parquet file"):
        read_table(tmp_path / "bad.parquet")
    (tmp_path / "bad.arrow").write_bytes(b"not arrow")
    with pytest.raises(InputError, match=r"bad\.arrow: not an Arrow IPC"):
        read_table(tmp_path / "bad.arrow")
    (tmp_path / "t.txt").write_text("x")
    assert record_kind(tmp_path / "t.txt") is None
    with pytest.raises(InputError, match=r"t\.txt: not a file of records"):
        read_table(tmp_path / "t.txt")
