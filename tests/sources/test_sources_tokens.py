"""Pre-tokenized files: EOD splitting in chunks checked against a naive split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpusmap.errors import InputError
from corpusmap.sources import Document, ReadOptions, ReadStats, read_documents
from corpusmap.sources.tokens import read_tokens

EOD = 0


def naive_split(ids: list[int], eod: int) -> list[tuple[int, list[int]]]:
    """(1-based document number, tokens) of the non-empty documents, the obvious way."""
    docs: list[list[int]] = [[]]
    for token in ids:
        if token == eod:
            docs.append([])
        else:
            docs[-1].append(token)
    if not docs[-1]:
        docs.pop()  # nothing after the last EOD: no trailing document
    return [(i + 1, d) for i, d in enumerate(docs) if d]


def read_split(path: Path, chunk: int) -> list[tuple[int, list[int]]]:
    opts = ReadOptions(eod_id=EOD, chunk_tokens=chunk)
    return [(d.row, tokens(d).tolist()) for d in read_tokens(path, opts)]


def tokens(doc: Document) -> np.ndarray:
    assert doc.tokens is not None
    return doc.tokens


def test_worked_example() -> None:
    """[5 0 0 6 7 0 8] is documents [5], [] (empty, number 2), [6 7], [8]."""
    assert naive_split([5, 0, 0, 6, 7, 0, 8], 0) == [(1, [5]), (3, [6, 7]), (4, [8])]


IDS = [0, 3, 4, 0, 0, 5, 6, 7, 8, 9, 0, 1, 0, 2, 2, 2, 2, 0]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 100])
def test_npy_chunk_boundaries(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "t.npy"
    np.save(path, np.array(IDS, dtype=np.int32))
    assert read_split(path, chunk) == naive_split(IDS, EOD)


@pytest.mark.parametrize(("suffix", "dtype"), [(".u16", "<u2"), (".u32", "<u4")])
def test_raw_files_by_extension(tmp_path: Path, suffix: str, dtype: str) -> None:
    path = tmp_path / f"t{suffix}"
    ids = [*IDS, 60000]
    np.array(ids, dtype=dtype).tofile(path)
    stats = ReadStats()
    docs = list(read_documents(path, eod_id=EOD, stats=stats))
    assert [(d.row, tokens(d).tolist()) for d in docs] == naive_split(ids, EOD)
    assert all(d.text is None and tokens(d).dtype == np.dtype(dtype) for d in docs)
    assert {d.source for d in docs} == {str(path)}
    assert (stats.documents, stats.empty_skipped, stats.files) == (len(docs), 2, 1)
    assert stats.bytes_read == path.stat().st_size


def test_bin_needs_token_dtype(tmp_path: Path) -> None:
    path = tmp_path / "tokens.bin"
    np.array(IDS, dtype="<u4").tofile(path)
    with pytest.raises(InputError) as info:
        read_documents(path, eod_id=EOD)  # checked at the call, before reading
    assert str(info.value).startswith(f"{path}: raw token file with no width; pass --token-dtype")
    docs = list(read_documents(path, eod_id=EOD, token_dtype="u32"))
    assert [(d.row, tokens(d).tolist()) for d in docs] == naive_split(IDS, EOD)


def test_missing_eod_id(tmp_path: Path) -> None:
    path = tmp_path / "t.npy"
    np.save(path, np.array(IDS, dtype=np.uint16))
    with pytest.raises(InputError, match=r"t\.npy: pre-tokenized input needs .* pass --eod-id"):
        read_documents(path)


def test_raw_file_of_odd_size(tmp_path: Path) -> None:
    path = tmp_path / "t.u32"
    path.write_bytes(b"\x01\x00\x00\x00\x02\x00")
    with pytest.raises(InputError) as info:
        list(read_documents(path, eod_id=EOD))
    assert str(info.value).startswith(f"{path}: size 6 bytes is not a multiple of 4 (uint32 ids)")


def test_other_token_file_problems(tmp_path: Path) -> None:
    u16 = tmp_path / "t.u16"
    np.array(IDS, dtype="<u2").tofile(u16)
    with pytest.raises(InputError, match=r"t\.u16: --token-dtype u32 contradicts"):
        read_documents(u16, eod_id=EOD, token_dtype="u32")
    with pytest.raises(InputError, match=r"t\.u16: --eod-id 70000 does not fit"):
        list(read_documents(u16, eod_id=70000))
    square = tmp_path / "sq.npy"
    np.save(square, np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(InputError, match=r"sq\.npy: expected a 1-D integer array"):
        list(read_documents(square, eod_id=EOD))
    empty = tmp_path / "e.u16"
    empty.write_bytes(b"")
    assert list(read_documents(empty, eod_id=EOD)) == []


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.integers(min_value=0, max_value=4), max_size=60),
    chunk=st.integers(min_value=1, max_value=9),
)
def test_chunked_split_matches_naive_split(tmp_path_factory, ids: list[int], chunk: int) -> None:
    path = tmp_path_factory.mktemp("h") / "t.u16"
    np.array(ids, dtype="<u2").tofile(path)
    assert read_split(path, chunk) == naive_split(ids, EOD)


def test_memory_is_bounded_by_the_chunk(tmp_path: Path) -> None:
    """4 MB of ids read 64K at a time: the peak stays far below the file size."""
    import tracemalloc

    path = tmp_path / "big.u16"
    np.tile(np.array([*range(1, 100), EOD], dtype="<u2"), 20_000).tofile(path)
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_tokens(path, ReadOptions(eod_id=EOD, chunk_tokens=1 << 16)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < path.stat().st_size / 4
