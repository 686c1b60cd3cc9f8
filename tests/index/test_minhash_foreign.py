"""MinHash side folders for infini-gram indexes built by the real infini-gram indexer.

The reference is our own build: an index of ours over the same documents, built with
MinHash (same parameters), must hold the same signatures, bands and near-duplicate
answers once doc ids are mapped (infini-gram deals documents round-robin over shards
and numbers them shard after shard: ``peer.shard_order``). Worked example: with two
shards and documents ``BASE, other, EDITED, ...``, infini-gram's doc 0 is input 0
(``BASE``) and its doc ``n // 2`` (the first of shard 1) is input 1.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from corpusmap.cli import cli
from corpusmap.errors import CorpusmapError
from corpusmap.index.minhash.side_folder import build_minhash_for
from corpusmap.index.minhash.store import SignatureReader
from corpusmap.index.opening import open_index
from tests.conftest import build_from_docs
from tests.index import infinigram_peer as peer

BASE = " ".join(f"word{i}" for i in range(50))
TEXTS = [
    BASE,
    "the quick brown fox jumps over the lazy dog, again and again, " * 3,
    BASE.replace("word25", "WORD"),
    "an unrelated sentence about cats and hats and mats",
    BASE,
    " ".join(f"term{i}" for i in range(40)),
    "the quick brown fox jumps over the lazy dog, again and again, " * 3 + "!",
    "short",
]
RNG = np.random.default_rng(3)
_BASE16 = [int(t) for t in RNG.integers(1, 60000, size=80)]
U16_DOCS = [
    _BASE16,
    [int(t) for t in RNG.integers(1, 60000, size=50)],
    [*_BASE16[:40], 7, *_BASE16[41:]],
    [int(t) for t in RNG.integers(1, 60000, size=30)],
    _BASE16,
    [5, 6, 7],
]


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (names included), to prove nothing changed."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def u8(tmp_path_factory):  # type: ignore[no-untyped-def]
    """(infini-gram folder, its side folder, our index with MinHash, ig -> our doc ids)."""
    tmp = tmp_path_factory.mktemp("mhig8")
    path = peer.build_u8(tmp, TEXTS, shards=2, metadata=True)
    before = tree_digest(path)
    build_minhash_for(open_index(path, cache_dir=tmp / "cache"), tmp / "side")
    assert tree_digest(path) == before  # nothing written into the foreign folder
    ours = open_index(build_from_docs(tmp, TEXTS, minhash=True))
    order = np.array(peer.shard_order(len(TEXTS), 2))
    return path, tmp / "side", ours, order, tmp


def _stored(where: object, n: int) -> np.ndarray:
    return SignatureReader(where, 128).take(np.arange(n))


def test_signatures_and_bands_equal_our_build(u8) -> None:
    _path, side, ours, order, _ = u8
    assert order[0] == 0 and order[len(TEXTS) // 2] == 1  # the worked example
    theirs = _stored(side, len(TEXTS))
    assert np.array_equal(theirs, _stored(ours.path, len(TEXTS))[order])
    mine_bands = pq.read_table(side / "bands.parquet").to_pylist()
    our_bands = pq.read_table(ours.path / "minhash" / "bands.parquet").to_pylist()
    to_ours = {d: int(order[d]) for d in range(len(TEXTS))}
    mapped = sorted((r["band"], r["bucket"], to_ours[r["doc_id"]]) for r in mine_bands)
    assert mapped == sorted((r["band"], r["bucket"], r["doc_id"]) for r in our_bands)
    record = json.loads((side / "minhash.json").read_text())
    assert record["index"]["format"] == "infini-gram" and record["n_docs"] == len(TEXTS)
    assert {k: record[k] for k in ("bands", "rows", "num_perm", "shingle", "seed")} == {
        k: ours.manifest["minhash"][k] for k in ("bands", "rows", "num_perm", "shingle", "seed")
    }


def test_near_duplicates_and_clusters_equal_our_index(u8) -> None:
    path, side, ours, order, tmp = u8
    ig = open_index(path, cache_dir=tmp / "cache", minhash=side)
    queries = [BASE, TEXTS[1], BASE.replace("word3 ", "x "), "nothing like any document"]
    got = ig.near_duplicates(queries, threshold=0.5, limit=None)
    want = ours.near_duplicates(queries, threshold=0.5, limit=None)
    assert any(got) and [len(g) for g in got] == [len(w) for w in want]
    for g, w in zip(got, want, strict=True):
        assert sorted((int(order[h["doc_id"]]), h["jaccard"]) for h in g) == sorted(
            (h["doc_id"], h["jaccard"]) for h in w
        )
    top = got[0][0]  # metadata.N of the infini-gram folder rides along
    assert top["source"] == "docs.jsonl" and top["meta"]["id"] == f"d{order[top['doc_id']]}"
    clusters = ig.duplicates().to_pylist()
    mapped = sorted((int(order[r["doc_id"]]), r["cluster_size"]) for r in clusters)
    assert mapped and mapped == sorted(
        (r["doc_id"], r["cluster_size"]) for r in ours.duplicates().to_pylist()
    )


def test_u16_several_shards_equal_our_build(tmp_path) -> None:
    path = peer.build_u16(tmp_path, U16_DOCS, shards=3)
    before = tree_digest(path)
    ig = open_index(path, tokenizer="ids:65100", cache_dir=tmp_path / "cache")
    build_minhash_for(ig, tmp_path / "side", num_perm=64, threshold=0.6)
    assert tree_digest(path) == before
    ours = build_from_docs(tmp_path, U16_DOCS, vocab=65100, minhash=False)
    ours_ix = open_index(ours)
    build_minhash_for(ours_ix, tmp_path / "ours_side", num_perm=64, threshold=0.6)
    order = np.array(peer.shard_order(len(U16_DOCS), 3))
    a = SignatureReader(tmp_path / "side", 64).take(np.arange(len(U16_DOCS)))
    b = SignatureReader(tmp_path / "ours_side", 64).take(np.arange(len(U16_DOCS)))
    assert np.array_equal(a, b[order])
    ig = open_index(
        path, tokenizer="ids:65100", cache_dir=tmp_path / "cache", minhash=tmp_path / "side"
    )
    hits = ig.near_duplicates([_BASE16], limit=None)[0]
    assert sorted(int(order[h["doc_id"]]) for h in hits) == [0, 2, 4]


def test_refuses_a_side_folder_of_another_index(u8, tmp_path) -> None:
    path, side, ours, _, tmp = u8
    other = peer.build_u8(tmp_path, TEXTS[:-1], shards=2)
    with pytest.raises(CorpusmapError, match="another index"):
        open_index(other, cache_dir=tmp_path / "cache", minhash=side)
    with pytest.raises(CorpusmapError, match="another index"):
        open_index(ours.path, minhash=side)
    with pytest.raises(CorpusmapError, match="another index"):
        build_minhash_for(open_index(other, cache_dir=tmp_path / "cache"), side)
    with pytest.raises(CorpusmapError, match="not a MinHash side folder"):
        open_index(path, cache_dir=tmp / "cache", minhash=ours.path / "minhash")


def test_refuses_to_write_inside_the_index_or_over_other_files(u8, tmp_path) -> None:
    path, _, _, _, tmp = u8
    ig = open_index(path, cache_dir=tmp / "cache")
    before = tree_digest(path)
    with pytest.raises(CorpusmapError, match="inside the index folder"):
        build_minhash_for(ig, path / "minhash")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(CorpusmapError, match="other files"):
        build_minhash_for(ig, busy)
    assert tree_digest(path) == before and (busy / "notes.txt").read_text() == "mine"


def test_cli_minhash_near_dups_dups_and_classify(u8, tmp_path) -> None:
    """Through the real entry point; classify's nearest document equals our index's."""
    import pyarrow as pa

    from corpusmap.match import classify

    path, _, ours, order, tmp = u8
    before = tree_digest(path)
    side, cache = tmp_path / "cli_side", str(tmp / "cache")
    run = CliRunner()
    res = run.invoke(cli, ["index", "minhash", str(path), "--out", str(side), "--cache-dir", cache])
    assert res.exit_code == 0, res.output
    assert "8 signatures" in res.output
    res = run.invoke(cli, ["index", "minhash", str(path), "--out", str(side), "--cache-dir", cache])
    assert res.exit_code == 0 and "skipped" in res.output
    res = run.invoke(
        cli,
        [
            "index",
            "near-dups",
            str(path),
            BASE,
            "--minhash",
            str(side),
            "--json",
            "--cache-dir",
            cache,
        ],
    )
    assert res.exit_code == 0, res.output
    (hits,) = json.loads(res.output)
    assert sorted(int(order[h["doc_id"]]) for h in hits) == [0, 2, 4]
    res = run.invoke(cli, ["index", "dups", str(path), "--minhash", str(side), "--json"])
    assert res.exit_code == 0, res.output
    sizes = sorted(c["cluster_size"] for c in json.loads(res.output))
    assert sizes == sorted(
        {r["cluster_id"]: r["cluster_size"] for r in ours.duplicates().to_pylist()}.values()
    )
    res = run.invoke(cli, ["index", "near-dups", str(path), BASE])
    assert res.exit_code == 1 and "corpusmap index minhash" in res.output
    gens = pa.table(
        {
            "gen_id": ["g0", "g1", "g2"],
            "prompt_id": ["p0", "p1", "p2"],
            "prompt": ["word0", "the quick", "zzz"],
            "output": [BASE, TEXTS[1], "nothing of the kind"],
        }
    )
    ig = open_index(path, cache_dir=cache, minhash=side)
    a = classify(gens, ig, tmp_path / "r_ig", min_span=4, patterns=False)
    b = classify(gens, ours, tmp_path / "r_ours", min_span=4, patterns=False)
    ga, gb = (pq.read_table(r / "generations").to_pylist() for r in (a, b))
    near_a = [None if r["nearest_doc_id"] is None else int(order[r["nearest_doc_id"]]) for r in ga]
    assert near_a == [r["nearest_doc_id"] for r in gb] and near_a[1] is not None
    assert [r["nearest_jaccard"] for r in ga] == [r["nearest_jaccard"] for r in gb]
    assert tree_digest(path) == before
