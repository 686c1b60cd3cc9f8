"""Parquet, Arrow IPC and Hugging Face ``save_to_disk`` folders."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from corpusmap.errors import CorpusmapError, InputError
from corpusmap.sources import ReadOptions, ReadStats, list_files, read_documents
from corpusmap.sources.parquet import read_parquet

datasets.disable_progress_bars()

TABLE = pa.table(
    {
        "text": ["alpha", "beta", "", "delta", "epsilon"],
        "id": [10, 11, 12, 13, 14],
        "source": ["web", "book", "web", "code", "web"],
        "when": pa.array([dt.datetime(2024, 1, i + 1) for i in range(5)], pa.timestamp("s")),
        "price": pa.array([Decimal("1.50")] * 5, pa.decimal128(5, 2)),
        "tags": [["a"], [], None, ["b", "c"], ["d"]],
    }
)


def expected_rows(source: str) -> list[tuple]:
    """(text, id, row, meta) for TABLE, the empty third row left out."""
    rows = []
    for i, rec in enumerate(TABLE.to_pylist()):
        if rec["text"]:
            meta = {
                "source": rec["source"],
                "when": rec["when"].isoformat(),
                "price": "1.50",
                "tags": rec["tags"],
            }
            rows.append((rec["text"], str(rec["id"]), i + 1, meta, source))
    return rows


def as_rows(docs: list) -> list[tuple]:
    return [(d.text, d.id, d.row, d.meta, d.source) for d in docs]


def write_stream(path: Path, table: pa.Table, max_chunksize: int = 2) -> Path:
    with ipc.new_stream(path, table.schema) as writer:
        writer.write_table(table, max_chunksize=max_chunksize)
    return path


def test_parquet_round_trip_across_batches(tmp_path: Path) -> None:
    """batch_rows=2 puts rows 1-2, 3-4, 5 in three batches; row numbers run on."""
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path, row_group_size=3)
    stats = ReadStats()
    opts = ReadOptions(id_field="id", batch_rows=2, stats=stats)
    docs = list(read_parquet(path, opts))
    assert as_rows(docs) == expected_rows(str(path))
    json.dumps([d.meta for d in docs])  # meta must be JSON-serialisable
    assert (stats.empty_skipped, stats.files, stats.bytes_read) == (1, 1, path.stat().st_size)


def test_parquet_through_read_documents(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path)
    docs = list(read_documents(path, id_field="id"))
    assert as_rows(docs) == expected_rows(str(path))


def test_parquet_missing_column_lists_columns_even_when_skipping(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path)
    with pytest.raises(InputError) as info:
        list(read_documents(path, text_field="content", on_error="skip"))
    assert str(info.value).startswith(
        f"{path}: no column 'content' (columns: 'text', 'id', 'source', 'when', 'price', 'tags')"
    )


def test_parquet_wrong_text_type(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path)
    with pytest.raises(InputError, match=r"t\.parquet: column 'id' has type int64, expected a str"):
        list(read_documents(path, text_field="id"))


def test_parquet_missing_id_column(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path)
    with pytest.raises(InputError, match=r"t\.parquet: no id column 'doc_id' \(columns: 'text'"):
        list(read_documents(path, id_field="doc_id"))


def test_parquet_null_text_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"text": ["a", None, "c"], "id": ["x", "y", None]}), path)
    with pytest.raises(InputError) as info:
        list(read_documents(path))
    assert str(info.value).startswith(f"{path}:2: column 'text' is null")
    ids = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "id": ["x", None]}), ids)
    with pytest.raises(InputError, match=r"ids\.parquet:2: id field 'id' is null"):
        list(read_documents(ids, id_field="id"))
    stats = ReadStats()
    docs = list(read_documents(path, id_field="id", on_error="skip", stats=stats))
    assert [(d.text, d.id, d.row) for d in docs] == [("a", "x", 1)]
    assert stats.errors_skipped == 2


def test_not_a_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match=r"fake\.parquet: not a readable Parquet file"):
        list(read_documents(path))


@pytest.mark.parametrize("layout", ["stream", "file"])
def test_arrow_round_trip(tmp_path: Path, layout: str) -> None:
    path = tmp_path / "t.arrow"
    if layout == "stream":
        write_stream(path, TABLE)
    else:
        with ipc.new_file(path, TABLE.schema) as writer:
            writer.write_table(TABLE, max_chunksize=2)
    stats = ReadStats()
    docs = list(read_documents(path, id_field="id", stats=stats))
    assert as_rows(docs) == expected_rows(str(path))
    assert stats.bytes_read == path.stat().st_size


def test_arrow_errors(tmp_path: Path) -> None:
    path = write_stream(tmp_path / "t.arrow", pa.table({"body": ["a"], "text": [1.5]}))
    with pytest.raises(
        InputError, match=r"t\.arrow: no column 'content' \(columns: 'body', 'text'"
    ):
        list(read_documents(path, text_field="content"))
    with pytest.raises(InputError, match=r"t\.arrow: column 'text' has type double"):
        list(read_documents(path))
    nulls = write_stream(tmp_path / "n.arrow", pa.table({"text": ["a", "b", None]}))
    with pytest.raises(InputError, match=r"n\.arrow:3: column 'text' is null"):
        list(read_documents(nulls))
    junk = tmp_path / "junk.arrow"
    junk.write_bytes(b"\x00" * 40)
    with pytest.raises(InputError, match=r"junk\.arrow: not an Arrow IPC"):
        list(read_documents(junk))


def test_hf_dataset_folder_matches_datasets(tmp_path: Path) -> None:
    """Two shards: rows count on through the second shard, as ``ds[row - 1]``."""
    data = {"text": [f"doc {i}" for i in range(7)], "n": list(range(7)), "lab": ["x"] * 7}
    ds = datasets.Dataset.from_dict(data)
    folder = tmp_path / "hf"
    ds.save_to_disk(str(folder), num_shards=2)
    assert len(list_files(folder)) == 2
    docs = list(read_documents(folder, id_field="n"))
    assert [(d.text, d.id, d.row, d.source) for d in docs] == [
        (row["text"], str(row["n"]), i + 1, str(folder)) for i, row in enumerate(ds)
    ]
    assert all(d.meta == {"lab": "x"} for d in docs)


def test_hf_dataset_dict_splits(tmp_path: Path) -> None:
    train = datasets.Dataset.from_dict({"text": ["t1", "t2"]})
    test = datasets.Dataset.from_dict({"text": ["s1"]})
    folder = tmp_path / "dd"
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(folder))
    docs = list(read_documents(folder))
    assert [(d.text, d.source, d.row) for d in docs] == [
        ("t1", str(folder / "train"), 1),
        ("t2", str(folder / "train"), 2),
        ("s1", str(folder / "test"), 1),
    ]
    assert [d.text for d in read_documents(folder, split="test")] == ["s1"]
    with pytest.raises(InputError, match=r"dd: no split 'valid' \(splits: train, test\)"):
        read_documents(folder, split="valid")  # checked at the call
    plain = tmp_path / "plain"
    train.save_to_disk(str(plain))
    assert [d.text for d in read_documents([plain, folder], split="test")] == ["t1", "t2", "s1"]
    with pytest.raises(CorpusmapError, match="--split test applies to DatasetDict folders"):
        read_documents(plain, split="test")


def test_hf_missing_text_column(tmp_path: Path) -> None:
    folder = tmp_path / "hf"
    datasets.Dataset.from_dict({"content": ["a"]}).save_to_disk(str(folder))
    with pytest.raises(InputError, match=r"data-00000-of-00001\.arrow: no column 'text' \(col"):
        list(read_documents(folder))
