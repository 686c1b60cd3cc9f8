"""Which files are read, in what order, by which reader; fingerprints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusmap.errors import CorpusmapError, InputError
from corpusmap.sources import ReadStats, list_files, read_documents, source_fingerprint
from corpusmap.sources.discover import kind_of

datasets.disable_progress_bars()


def make_tree(root: Path) -> None:
    """A folder of mixed formats, plus hidden things that must be left out::

    root/a.txt            text "A"
    root/a/b.jsonl        records "B1", "B2"
    root/a/c.parquet      row "C"
    root/hf/              save_to_disk dataset, row "H"
    root/z.npy            tokens [7 8] EOD [9]
    root/.hidden.txt      left out
    root/.git/x.txt       left out
    """
    (root / "a").mkdir(parents=True)
    (root / "a.txt").write_text("A")
    (root / "a" / "b.jsonl").write_text('{"text": "B1"}\n{"text": "B2"}\n')
    pq.write_table(pa.table({"text": ["C"]}), root / "a" / "c.parquet")
    datasets.Dataset.from_dict({"text": ["H"]}).save_to_disk(str(root / "hf"))
    np.save(root / "z.npy", np.array([7, 8, 0, 9], dtype=np.uint16))
    (root / ".hidden.txt").write_text("hidden")
    (root / ".git").mkdir()
    (root / ".git" / "x.txt").write_text("hidden")


def test_folder_walk_order_and_dispatch(tmp_path: Path) -> None:
    """Sorted by path components: the folder ``a`` (a/...) comes before ``a.txt``."""
    make_tree(tmp_path)
    stats = ReadStats()
    docs = list(read_documents(tmp_path, eod_id=0, stats=stats))
    got = [(Path(d.source).relative_to(tmp_path).as_posix(), d.row, d.text) for d in docs]
    assert got == [
        ("a/b.jsonl", 1, "B1"),
        ("a/b.jsonl", 2, "B2"),
        ("a/c.parquet", 1, "C"),
        ("a.txt", 1, "A"),
        ("hf", 1, "H"),
        ("z.npy", 1, None),
        ("z.npy", 2, None),
    ]
    assert [d.tokens.tolist() for d in docs[-2:]] == [[7, 8], [9]]  # type: ignore[union-attr]
    assert (stats.documents, stats.files) == (7, 5)
    files = list_files(tmp_path)
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "a/b.jsonl",
        "a/c.parquet",
        "a.txt",
        "hf/data-00000-of-00001.arrow",
        "z.npy",
    ]
    assert stats.bytes_read == sum(f.stat().st_size for f in files)


def test_sources_in_given_order_each_file_once(tmp_path: Path) -> None:
    make_tree(tmp_path)
    files = list_files([tmp_path / "a.txt", tmp_path / "a", tmp_path / "a" / "b.jsonl"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "a.txt",
        "a/b.jsonl",
        "a/c.parquet",
    ]


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(InputError) as info:
        read_documents([tmp_path, missing])  # raised at the call, before reading
    assert str(info.value) == f"{missing}: does not exist; check the path"
    with pytest.raises(CorpusmapError, match="no input given"):
        list_files([])


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("x.jsonl", "jsonl"),
        ("x.JSON", "jsonl"),
        ("x.ndjson.zst", "jsonl"),
        ("x.jsonl.gz", "jsonl"),
        ("x.parquet", "parquet"),
        ("x.arrow", "arrow"),
        ("x.npy", "tokens"),
        ("x.bin", "tokens"),
        ("x.u16", "tokens"),
        ("x.u32", "tokens"),
        ("x.txt", "text"),
        ("x.md.gz", "text"),
        ("Makefile", "text"),
    ],
)
def test_kind_by_extension(name: str, kind: str) -> None:
    assert kind_of(Path(name)) == kind


def test_fingerprint_changes_with_the_files(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("bee")
    (tmp_path / "a.jsonl").write_text(json.dumps({"text": "a"}) + "\n")
    first = source_fingerprint(tmp_path)
    assert [(Path(f["path"]).name, f["size"]) for f in first] == [("a.jsonl", 14), ("b.txt", 3)]
    assert all(Path(f["path"]).is_absolute() and f["mtime_ns"] > 0 for f in first)
    assert source_fingerprint(tmp_path) == first
    json.dumps(first)
    (tmp_path / "b.txt").write_text("bees")
    assert source_fingerprint(tmp_path) != first
    os.utime(tmp_path / "b.txt", ns=(1, 1))
    assert source_fingerprint(tmp_path)[1]["mtime_ns"] == 1


def test_skipping_continues_into_the_next_file(tmp_path: Path) -> None:
    (tmp_path / "1.jsonl").write_text('{"text": "ok"}\nnot json\n')
    (tmp_path / "2.txt").write_text("next file")
    stats = ReadStats()
    docs = list(read_documents(tmp_path, on_error="skip", stats=stats))
    assert [d.text for d in docs] == ["ok", "next file"]
    assert stats.as_dict()["errors_skipped"] == 1
    assert stats.error_examples == [
        f"{tmp_path / '1.jsonl'}:2:1: malformed JSON: Expecting value; "
        "fix the record or pass --on-error skip"
    ]


def test_bad_argument_values(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    with pytest.raises(CorpusmapError, match="on_error must be"):
        read_documents(tmp_path, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(CorpusmapError, match="token dtype must be 'u16' or 'u32'"):
        read_documents(tmp_path, token_dtype="u8")
    with pytest.raises(CorpusmapError, match="id field and the text field are both 'text'"):
        read_documents(tmp_path, id_field="text")
