"""What a build reads: each file once, never its own output, and resumes only on the same bytes.

Regression tests for issue 11's "input lost or misread without a word": a file
named twice, ``--out`` inside the corpus folder, ``--shard-tokens 0``, a resumed
build reusing a shard of a file edited with its size and mtime restored, and an
empty corpus that did not say which inputs were empty.
"""

from __future__ import annotations

import os

import pytest

from corpusmap.errors import CorpusmapError, InputError
from corpusmap.index import sharding as stream_mod
from corpusmap.index.build import build_index
from corpusmap.index.index import open_index
from tests.conftest import write_jsonl

ARGS = dict(workers=1, minhash=False)


def _corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", ["the quick brown fox", "jumps over the lazy dog"])
    write_jsonl(folder / "b.jsonl", ["a fox and a dog"])
    return folder


def test_a_file_named_twice_is_read_once_and_said(tmp_path, capsys) -> None:
    folder = _corpus(tmp_path)
    ix = open_index(build_index([folder, folder / "a.jsonl", folder], tmp_path / "i", **ARGS))
    assert ix.n_docs == 3  # not 5 or 8
    assert ix.count(["fox"]) == [2]
    out = capsys.readouterr().out
    assert "a.jsonl: it was already named" in out
    assert "2 of its files were already named" in out


def test_embedded_named_twice_is_read_once(tmp_path, capsys) -> None:
    once = open_index(build_index(["embedded:kjv"], tmp_path / "a", **ARGS))
    twice = open_index(build_index(["embedded:kjv", "embedded:kjv"], tmp_path / "b", **ARGS))
    assert twice.n_docs == once.n_docs
    assert "embedded:kjv: named twice" in capsys.readouterr().out


def test_out_inside_the_corpus_folder_is_never_read_back(tmp_path, capsys) -> None:
    folder = _corpus(tmp_path)
    out = folder / "idx"
    first = open_index(build_index(folder, out, **ARGS))
    again = open_index(build_index(folder, out, force=True, **ARGS))
    assert again.n_docs == first.n_docs == 3
    assert again.manifest["corpus_fingerprint"] == first.manifest["corpus_fingerprint"]
    assert "idx: left out, a folder corpusmap wrote (corpusmap-index)" in capsys.readouterr().out


def test_an_index_named_as_a_source_is_refused(tmp_path) -> None:
    ix = build_index(_corpus(tmp_path), tmp_path / "idx", **ARGS)
    with pytest.raises(InputError, match="idx: is a folder corpusmap wrote"):
        build_index(ix, tmp_path / "idx2", **ARGS)
    assert not (tmp_path / "idx2").exists()


def test_a_users_own_manifest_json_is_still_data(tmp_path) -> None:
    folder = _corpus(tmp_path)
    (folder / "sub").mkdir()
    (folder / "sub" / "manifest.json").write_text('{"text": "a user manifest"}\n')
    ix = open_index(build_index(folder, tmp_path / "idx", **ARGS))
    assert ix.count(["user manifest"]) == [1]


@pytest.mark.parametrize("n", [0, -5])
def test_shard_tokens_must_be_positive(tmp_path, n) -> None:
    with pytest.raises(CorpusmapError, match="--shard-tokens must be a positive"):
        build_index(_corpus(tmp_path), tmp_path / "idx", shard_tokens=n, **ARGS)
    assert not (tmp_path / "idx").exists() and not (tmp_path / ".idx.building").exists()


def test_no_documents_names_the_sources(tmp_path) -> None:
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "blank.txt").write_text("   \n")
    with pytest.raises(CorpusmapError, match=r"e: no documents \(1 files read, 1 empty"):
        build_index(tmp_path / "e", tmp_path / "idx", **ARGS)


@pytest.mark.parametrize("out", ["/proc/corpusmap-x", "FILE/sub"])
def test_unwritable_out_is_one_clear_error(tmp_path, out) -> None:
    folder = _corpus(tmp_path)
    out = out.replace("FILE", str(folder / "a.jsonl"))
    with pytest.raises(CorpusmapError, match=r"cannot write an index there.*choose another --out"):
        build_index(folder, out, **ARGS)


def test_resume_rejects_a_shard_whose_input_changed_behind_a_restored_mtime(
    tmp_path, monkeypatch
) -> None:
    """Shard 0 (from a.jsonl) is finished, the build dies; a.jsonl is then edited in
    place (same size, mtime put back). The rerun must not keep the stale shard 0."""
    a = write_jsonl(tmp_path / "a.jsonl", ["alpha " * 40])
    b = write_jsonl(tmp_path / "b.jsonl", ["omega " * 40])
    out, real, calls = tmp_path / "idx", stream_mod.finish_shard, []

    def dies_on_second(folder, width, record):  # type: ignore[no-untyped-def]
        calls.append(record["name"])
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated kill")
        return real(folder, width, record)

    monkeypatch.setattr(stream_mod, "finish_shard", dies_on_second)
    args = dict(shard_tokens=100, **ARGS)
    with pytest.raises(KeyboardInterrupt):
        build_index([a, b], out, **args)
    assert (tmp_path / ".idx.building" / "shard-000" / "shard.json").is_file()
    st = a.stat()
    a.write_text(a.read_text().replace("alpha", "gamma"))
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert a.stat().st_size == st.st_size and a.stat().st_mtime_ns == st.st_mtime_ns
    monkeypatch.setattr(stream_mod, "finish_shard", real)
    ix = open_index(build_index([a, b], out, **args))
    assert ix.count(["alpha", "gamma", "omega"]) == [0, 40, 40]


@pytest.mark.parametrize("force", [False, True])
def test_out_that_is_a_users_folder_is_never_replaced(tmp_path, force) -> None:
    """Before: publish moved the existing --out aside and deleted it, even the corpus."""
    folder = _corpus(tmp_path)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(CorpusmapError, match="holds files corpusmap did not write"):
        build_index(folder, folder, force=force, **ARGS)
    assert sorted(p.name for p in folder.iterdir()) == before
