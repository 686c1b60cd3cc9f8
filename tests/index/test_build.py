"""Index builds: atomic publish, resume after a crash, inputs, refusal rules."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from corpusmap.errors import CorpusmapError, IndexFormatError, InputError, TokenizerMismatchError
from corpusmap.index import sharding as stream_mod
from corpusmap.index.build import build_index
from corpusmap.index.format import building_dir
from corpusmap.index.opening import open_index
from tests.conftest import build_from_docs, write_jsonl


def _docs(n: int = 40, seed: int = 0) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 30, size=rng.integers(3, 60)).tolist() for _ in range(n)]


def test_manifest_records_what_a_reader_needs(tmp_path) -> None:
    path = build_from_docs(tmp_path, _docs(), vocab=100, shard_tokens=200)
    m = json.loads((path / "manifest.json").read_text())
    assert m["format"] == "corpusmap-index" and m["format_version"] == 2
    assert m["tokenizer"]["kind"] == "ids" and m["token_width"] == "u8"  # 100 ids fit u8
    assert m["n_docs"] == 40 and m["n_shards"] == len(m["shards"]) > 1
    assert m["n_tokens"] == sum(len(d) for d in _docs())
    for shard in m["shards"]:
        assert set(shard["files"]) == {"tokens.bin", "sa.bin", "docs.parquet", "checksums.bin"}
        blocks = shard["blocks"]
        assert blocks["hash"] == "xxh3_64" and blocks["counts"] == {"tokens.bin": 1, "sa.bin": 1}
        assert shard["n_suffixes"] == shard["n_tokens"] - shard["n_docs"]
    assert not building_dir(path).exists()


def test_killed_build_leaves_no_index_and_resumes(tmp_path, monkeypatch) -> None:
    """A crash while finishing the third shard keeps shards 0-1; the rerun skips them."""
    docs = _docs(80)
    src = write_jsonl(tmp_path / "c.jsonl", [" ".join(map(str, d)) for d in docs])
    out = tmp_path / "idx"
    real, calls = stream_mod.finish_shard, []

    def crashing(folder, width, record):  # type: ignore[no-untyped-def]
        calls.append(record["name"])
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated kill")
        return real(folder, width, record)

    monkeypatch.setattr(stream_mod, "finish_shard", crashing)
    args = dict(tokenizer="ids:100", shard_tokens=300, workers=1, minhash=False)
    with pytest.raises(KeyboardInterrupt):
        build_index(src, out, **args)
    assert not out.exists()
    with pytest.raises(IndexFormatError, match="interrupted"):
        open_index(out)
    calls.clear()
    monkeypatch.setattr(
        stream_mod, "finish_shard", lambda *a: (calls.append(a[2]["name"]), real(*a))[1]
    )
    build_index(src, out, **args)
    assert calls[0] == "shard-002"  # shards 0 and 1 were kept
    fresh = build_index(src, tmp_path / "fresh", **args)
    a, b = open_index(out), open_index(fresh)
    assert a.manifest["corpus_fingerprint"] == b.manifest["corpus_fingerprint"]
    qs = [d[:3] for d in docs]
    assert a.count(qs) == b.count(qs)


def test_sigkill_mid_build_never_leaves_a_half_index(tmp_path) -> None:
    """kill -9 at an arbitrary moment: afterwards the index is absent or whole."""
    src = write_jsonl(tmp_path / "c.jsonl", [f"lorem ipsum dolor {i} " * 50 for i in range(4000)])
    out = tmp_path / "idx"
    code = (
        "import sys; from corpusmap.index.build import build_index; "
        f"build_index({str(src)!r}, {str(out)!r}, shard_tokens=20000, workers=1, minhash=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    time.sleep(2.0)
    proc.kill()
    proc.wait()
    if out.exists():
        open_index(out)  # complete if it exists at all
    else:
        with pytest.raises(IndexFormatError):
            open_index(out)
    build_index(src, out, shard_tokens=20000, workers=1, minhash=False)
    ix = open_index(out)
    assert ix.n_docs == 4000 and ix.count("lorem ipsum dolor 17 ") == 50


def test_rebuild_is_skipped_or_refused(tmp_path, capsys) -> None:
    src = write_jsonl(tmp_path / "c.jsonl", ["alpha beta", "gamma"])
    out = build_index(src, tmp_path / "idx", workers=1, minhash=False)
    build_index(src, out, workers=1, minhash=False)
    assert "already built" in capsys.readouterr().out
    with pytest.raises(CorpusmapError, match="--force"):
        build_index(src, out, tokenizer="words", workers=1, minhash=False)
    build_index(src, out, tokenizer="words", workers=1, minhash=False, force=True)
    assert open_index(out).spec.kind == "words"


def test_tokenizer_mismatch_is_refused(tmp_path) -> None:
    path = build_from_docs(tmp_path, ["some text"])
    with pytest.raises(TokenizerMismatchError, match="bytes"):
        open_index(path, tokenizer="words")
    with pytest.raises(TokenizerMismatchError):
        open_index(path, tokenizer="ids:10")
    assert open_index(path, tokenizer="bytes").count("text") == 1


def test_pretokenized_npy_with_eod(tmp_path) -> None:
    """OLMo/Pythia-style token memmap split at the end-of-document id."""
    docs = _docs(30, seed=3)
    eod = 65535
    stream = np.array([t for d in docs for t in [*d, eod]], dtype=np.uint16)
    np.save(tmp_path / "tokens.npy", stream)
    out = build_index(
        tmp_path / "tokens.npy",
        tmp_path / "idx",
        tokenizer="ids:50000",
        eod_id=eod,
        workers=1,
        minhash=False,
    )
    ix = open_index(out)
    assert ix.n_docs == 30
    assert [ix.document_tokens(i).tolist() for i in range(30)] == docs


def test_reserved_token_ids_in_input_are_reported(tmp_path) -> None:
    stream = np.array([1, 2, 65534, 65535, 3, 65535], dtype=np.uint16)
    stream.tofile(tmp_path / "t.u16")
    with pytest.raises(InputError, match=r"t\.u16:1: token id 65534"):
        build_index(
            tmp_path / "t.u16",
            tmp_path / "idx",
            tokenizer="ids:60000",
            eod_id=65535,
            workers=1,
            minhash=False,
        )
    assert not (tmp_path / "idx").exists()


def test_bad_record_is_reported_or_skipped(tmp_path) -> None:
    src = tmp_path / "c.jsonl"
    src.write_text('{"text": "good"}\n{"text": oops}\n{"text": ""}\n{"text": "fine"}\n')
    with pytest.raises(InputError, match=r"c\.jsonl:2"):
        build_index(src, tmp_path / "idx", workers=1, minhash=False)
    out = build_index(src, tmp_path / "idx", workers=1, minhash=False, on_error="skip")
    stats = open_index(out).manifest["read_stats"]
    assert stats["errors_skipped"] == 1 and stats["empty_skipped"] == 1
    assert open_index(out).n_docs == 2


def test_metadata_and_ids_are_kept(tmp_path) -> None:
    src = write_jsonl(
        tmp_path / "c.jsonl", ["first doc", "second doc"], uid=["a", "b"], lang=["en", "fr"]
    )
    out = build_index(src, tmp_path / "idx", id_field="uid", workers=1, minhash=False)
    hit = open_index(out).locate("second", limit=1)[0]
    assert hit["id"] == "b" and hit["meta"] == {"lang": "fr"} and hit["row"] == 2
    assert hit["source"].endswith("c.jsonl")


def test_parallel_build_equals_serial(tmp_path) -> None:
    docs = _docs(60, seed=5)
    a = open_index(build_from_docs(tmp_path, docs, name="a", vocab=100, shard_tokens=250))
    b = open_index(
        build_from_docs(tmp_path, docs, name="b", vocab=100, shard_tokens=250, workers=2)
    )
    assert a.manifest["corpus_fingerprint"] == b.manifest["corpus_fingerprint"]
    arrays = [(s["files"]["tokens.bin"], s["files"]["sa.bin"]) for s in a.manifest["shards"]]
    assert arrays == [
        (s["files"]["tokens.bin"], s["files"]["sa.bin"]) for s in b.manifest["shards"]
    ]


def test_no_documents_is_an_error(tmp_path) -> None:
    src = tmp_path / "empty.jsonl"
    src.write_text('{"text": ""}\n')
    with pytest.raises(CorpusmapError, match="no documents"):
        build_index(src, tmp_path / "idx", workers=1, minhash=False)
