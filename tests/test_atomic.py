"""Atomic writes: the target holds the old bytes or the new ones, and everything is fsynced."""

from __future__ import annotations

import json
import os
import stat

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusmap import atomic


class Boom(Exception):
    """Stands for a writer dying half-way."""


def count_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record what every ``os.fsync`` call flushed ("file" or "dir"), still calling it."""
    seen: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        seen.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def test_every_writer_publishes_and_fsyncs_file_then_folder(tmp_path, monkeypatch):
    seen = count_fsyncs(monkeypatch)
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    atomic.write_bytes(tmp_path / "b.bin", b"\x00\x01")
    atomic.write_text(tmp_path / "t.txt", "héllo\n")
    atomic.write_json(tmp_path / "j.json", {"b": 1, "a": [2]})
    atomic.write_parquet(tmp_path / "p.parquet", table, compression="zstd")
    assert seen == ["file", "dir"] * 4
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "héllo\n"
    text = (tmp_path / "j.json").read_text()
    assert json.loads(text) == {"a": [2], "b": 1} and text.index('"a"') < text.index('"b"')
    assert pq.read_table(tmp_path / "p.parquet").equals(table)
    assert pq.ParquetFile(tmp_path / "p.parquet").metadata.row_group(0).column(0).compression == (
        "ZSTD"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin", "j.json", "p.parquet", "t.txt"]


def test_new_files_get_the_usual_permissions(tmp_path):
    """The temp file is created like ``open(..., 'w')`` would (0666 less umask), not 0600."""
    umask = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "x.txt", "x")
        open(tmp_path / "ref.txt", "w").close()
    finally:
        os.umask(umask)
    mode = stat.S_IMODE((tmp_path / "x.txt").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "ref.txt").stat().st_mode) == 0o644


def test_raising_writer_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "part.parquet"
    atomic.write_text(target, "old")
    seen = count_fsyncs(monkeypatch)
    with pytest.raises(Boom), atomic.atomic_path(target) as tmp:
        tmp.write_bytes(b"PAR1 half of a part")
        assert tmp.parent == tmp_path and tmp.name.startswith(".part.parquet.")
        # mid-write: the target still holds the old bytes, and no *.parquet is partial
        assert target.read_text() == "old"
        assert [p.name for p in tmp_path.glob("*.parquet")] == ["part.parquet"]
        raise Boom
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["part.parquet"]
    assert seen == [], "nothing is published, so nothing is fsynced"


def test_raising_writer_creates_nothing_at_a_new_target(tmp_path, monkeypatch):
    def half_write(table, where, **options):
        where.write(b"PAR1 the first row group")
        raise Boom

    monkeypatch.setattr(pq, "write_table", half_write)
    with pytest.raises(Boom):
        atomic.write_parquet(tmp_path / "new.parquet", pa.table({"a": [1]}))
    with pytest.raises(TypeError):
        atomic.write_json(tmp_path / "new.json", {"x": object()})
    assert list(tmp_path.iterdir()) == []


def test_killed_writer_leaves_only_a_hidden_temp_that_remove_temps_clears(tmp_path):
    """A SIGKILL skips every cleanup: simulate it by leaving the context without exiting it."""
    target = tmp_path / "part-00001.parquet"
    ctx = atomic.atomic_path(target)
    tmp = ctx.__enter__()
    tmp.write_bytes(b"PAR1 half")
    assert not target.exists()
    assert [p.name for p in tmp_path.glob("*.parquet")] == []
    assert tmp.name.startswith(".") and tmp.name.endswith(".tmp")
    (tmp_path / ".other.json.abc.tmp").write_text("{")
    assert atomic.remove_temps(tmp_path, "part-*.parquet") == 1
    assert [p.name for p in tmp_path.iterdir()] == [".other.json.abc.tmp"]


def test_two_writers_of_one_target_use_separate_temps(tmp_path):
    target = tmp_path / "cache.json"
    with atomic.atomic_path(target) as a, atomic.atomic_path(target) as b:
        assert a != b
        a.write_text("a")
        b.write_text("b")
    assert target.read_text() == "a"  # the outer block publishes last
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]


def test_fsync_dir_flushes_a_folder(tmp_path, monkeypatch):
    seen = count_fsyncs(monkeypatch)
    atomic.fsync_dir(tmp_path)
    assert seen == ["dir"]
