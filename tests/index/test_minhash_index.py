"""MinHash inside a built index: planted near-duplicates, corpus clusters, verify, datasketch.

The corpus is synthetic text over a made-up vocabulary (``words`` tokenizer):
300 random documents plus planted clusters at the end. Queries are edited
copies of corpus documents (substitutions, insertions, deletions, block moves),
so their true Jaccard with the source document spreads over ~0.55..1.0; the
reference is always the exact Jaccard of the two shingle sets in Python.
"""

from __future__ import annotations

import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
from datasketch import MinHash, MinHashLSH

from corpusmap.index.build import build_index
from corpusmap.index.minhash import build as build_mod
from corpusmap.index.minhash import (
    build_minhash,
    duplicate_counts,
    near_duplicates,
    self_duplicates,
    shingle_hashes,
    signatures_of,
    to_datasketch,
    verify_minhash,
)
from corpusmap.index.minhash.lsh import WEIGHTS, bands_table
from corpusmap.index.minhash.query import band_matches
from corpusmap.index.minhash.signature import estimated_jaccard
from corpusmap.index.minhash.store import list_values, load_params
from corpusmap.index.opening import open_index
from corpusmap.index.verify import verify_index
from tests.conftest import write_jsonl
from tests.index.test_minhash import naive_jaccard

VOCAB = [f"{a}{b}{c}" for a in "bdfgklmnprst" for b in "aeiou" for c in "bdfgklmnprstz"][:700]
VOCAB += [f"x{i}" for i in range(3300)]
THRESHOLD = 0.8


def _words(rng: np.random.Generator, n: int) -> list[str]:
    return [VOCAB[i] for i in rng.zipf(1.15, size=n) % len(VOCAB)]


def _edit(words: list[str], rng: np.random.Generator, kind: str, k: int) -> list[str]:
    w = list(words)
    for _ in range(k):
        if kind == "substitute":
            w[int(rng.integers(len(w)))] = _words(rng, 1)[0]
        elif kind == "insert":
            w.insert(int(rng.integers(len(w) + 1)), _words(rng, 1)[0])
        elif kind == "delete":
            del w[int(rng.integers(len(w)))]
        else:  # move a block elsewhere
            i, j, m = sorted(rng.choice(len(w) + 1, size=3, replace=False).tolist())
            w = w[:i] + w[j:m] + w[i:j] + w[m:]
    return w


def _corpus(seed: int = 0) -> tuple[list[str], list[set[int]]]:
    """300 random documents, then planted clusters; returns texts and the clusters."""
    rng = np.random.default_rng(seed)
    docs = [_words(rng, int(rng.integers(150, 260))) for _ in range(300)]
    clusters = []
    plan = [(0, "copy", 0, 4), (1, "substitute", 2, 3), (2, "insert", 2, 2), (3, "reorder", 1, 1)]
    for src, kind, k, copies in plan:
        ids = {src}
        for _ in range(copies):
            ids.add(len(docs))
            docs.append(_edit(docs[src], rng, kind, k) if kind != "copy" else list(docs[src]))
        clusters.append(ids)
    return [" ".join(d) for d in docs], clusters


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("minhash")
    texts, clusters = _corpus()
    src = write_jsonl(tmp / "c.jsonl", texts, title=[f"t{i}" for i in range(len(texts))])
    path = build_index(src, tmp / "idx", tokenizer="words", workers=1, minhash=True)
    return open_index(path), texts, clusters


@pytest.fixture(scope="module")
def queries(corpus):  # type: ignore[no-untyped-def]
    """(query text, source doc_id) pairs: edited copies of documents 10..249."""
    _, texts, _ = corpus
    rng = np.random.default_rng(1)
    out = []
    for d in range(10, 250):
        kind = ["substitute", "insert", "delete", "reorder"][d % 4]
        k = int(rng.integers(0, 4 if kind == "reorder" else 9))
        out.append((" ".join(_edit(texts[d].split(), rng, kind, k)), d))
    return out


def _exact(ix, text: str, doc_id: int) -> float:  # type: ignore[no-untyped-def]
    q = ix.tokenizer.encode(text).tolist()
    return naive_jaccard(q, ix.document_tokens(doc_id).tolist(), 5)


def test_planted_near_duplicates_found_and_false_positives_verified_away(corpus, queries) -> None:
    ix, _, _ = corpus
    results = near_duplicates(ix, [q for q, _ in queries], threshold=THRESHOLD, limit=None)
    exact = np.array([_exact(ix, q, d) for q, d in queries])
    assert exact.min() < 0.65 and (exact >= 0.85).sum() > 80  # levels spread around 0.8
    found = np.array(
        [d in {h["doc_id"] for h in hits} for (_, d), hits in zip(queries, results, strict=True)]
    )
    assert found[exact >= 0.85].mean() >= 0.95
    assert not found[exact < 0.65].any()
    for (q, _), hits in zip(queries, results, strict=True):
        assert [h["jaccard"] for h in hits] == sorted((h["jaccard"] for h in hits), reverse=True)
        for h in hits:
            assert h["jaccard"] >= THRESHOLD and _exact(ix, q, h["doc_id"]) >= 0.65
    # the bands did bring up low-similarity candidates: verification removed them
    params = load_params(ix.path)
    sigs = signatures_of([ix.tokenizer.encode(q) for q, _ in queries], seed=params["seed"])
    ids = np.arange(len(queries))
    qid, doc = band_matches(
        ix.path, bands_table(ids, sigs, params["bands"], params["rows"], ids >= 0)
    )
    assert (estimated_jaccard(sigs[qid], _stored(ix)[doc]) < THRESHOLD).sum() > 5


def test_exact_mode_scores_and_recall(corpus, queries) -> None:
    ix, _, _ = corpus
    results = near_duplicates(ix, [q for q, _ in queries], exact=True, limit=None)
    exact = np.array([_exact(ix, q, d) for q, d in queries])
    found = np.array(
        [d in {h["doc_id"] for h in hits} for (_, d), hits in zip(queries, results, strict=True)]
    )
    assert found[exact >= 0.82].mean() >= 0.95
    assert not found[exact < THRESHOLD].any()
    for (q, _), hits in zip(queries, results, strict=True):
        for h in hits:
            assert h["exact_jaccard"] == pytest.approx(_exact(ix, q, h["doc_id"]))


def test_records_carry_metadata_and_batches_equal_single_calls(corpus, queries) -> None:
    ix, texts, _ = corpus
    batch = [texts[0], "zzz unrelated", "", *(q for q, _ in queries[:12])]
    together = near_duplicates(ix, batch)
    assert together == [near_duplicates(ix, t) for t in batch]
    top = together[0]
    assert {h["doc_id"] for h in top} == {0, 300, 301, 302, 303}
    assert top[0]["jaccard"] == 1.0 and top[0]["meta"] == {"title": "t0"} and top[0]["row"] == 1
    assert set(top[0]) == {"doc_id", "jaccard", "id", "source", "row", "meta"}
    assert together[1] == [] and together[2] == []
    assert near_duplicates(ix, ix.document_tokens(5)) == near_duplicates(ix, [texts[5]])[0]
    assert len(near_duplicates(ix, texts[0], limit=2)) == 2
    assert near_duplicates(ix, []) == []
    assert near_duplicates(ix, [[-1, 2**40, 3, 4, 5]]) == [[]]  # ids the corpus cannot hold


def test_tokenizing_in_worker_processes_changes_nothing(corpus, queries, monkeypatch) -> None:
    from corpusmap.index.minhash import query as query_mod

    ix, _, _ = corpus
    monkeypatch.setattr(query_mod, "_ENCODE_BATCH", 4)  # 16+ texts go to 2 processes
    batch = [q for q, _ in queries[:20]]
    assert near_duplicates(ix, batch, workers=2) == near_duplicates(ix, batch)


def _stored(ix) -> np.ndarray:  # type: ignore[no-untyped-def]
    table = pq.read_table(ix.path / "minhash" / "signatures.parquet")
    assert table.column("doc_id").to_pylist() == list(range(ix.n_docs))
    return list_values(table.column("hashvalues"), 128)


def test_stored_signatures_are_datasketch_compatible(corpus) -> None:
    ix, _, _ = corpus
    sigs, seed = _stored(ix), load_params(ix.path)["seed"]
    for d in (0, 7, 300, 305):
        m = MinHash(num_perm=128, seed=seed, hashfunc=lambda h: h)
        m.update_batch(shingle_hashes(ix.document_tokens(d), 5))
        assert np.array_equal(m.hashvalues, sigs[d])
    rng = np.random.default_rng(3)
    pairs = [(0, 300), (1, 304), (2, 307), (3, 309), *rng.integers(0, ix.n_docs, (40, 2)).tolist()]
    for i, j in pairs:
        lean_i, lean_j = to_datasketch(sigs[i], seed, 128), to_datasketch(sigs[j], seed, 128)
        assert lean_i.jaccard(lean_j) == estimated_jaccard(sigs[i], sigs[j])


def test_band_join_candidates_equal_datasketch_minhashlsh(corpus, queries) -> None:
    ix, _, _ = corpus
    params, sigs = load_params(ix.path), _stored(ix)
    lsh = MinHashLSH(threshold=params["threshold"], num_perm=128, weights=WEIGHTS)
    assert (lsh.b, lsh.r) == (params["bands"], params["rows"])
    for d in range(ix.n_docs):
        lsh.insert(d, to_datasketch(sigs[d], params["seed"]))
    qs = signatures_of([ix.tokenizer.encode(q) for q, _ in queries], seed=params["seed"])
    ids = np.arange(len(qs))
    qid, doc = band_matches(
        ix.path, bands_table(ids, qs, params["bands"], params["rows"], ids >= 0)
    )
    ours = {(int(q), int(d)) for q, d in zip(qid, doc, strict=True)}
    theirs = {(k, d) for k, s in enumerate(qs) for d in lsh.query(to_datasketch(s, params["seed"]))}
    assert ours == theirs and len(ours) > len(queries) // 2


@pytest.mark.parametrize("star_cap", [64, 2])
def test_self_duplicates_finds_planted_clusters(corpus, star_cap, monkeypatch) -> None:
    """Also with buckets of > 2 docs linked as stars (the mass-duplication path)."""
    from corpusmap.index.minhash import dups as dups_mod

    monkeypatch.setattr(dups_mod, "STAR_CAP", star_cap)
    ix, _, clusters = corpus
    table = self_duplicates(ix)
    assert table.column_names == ["doc_id", "cluster_id", "cluster_size"]
    got: dict[int, set[int]] = {}
    for d, c, _ in zip(*(table.column(k).to_pylist() for k in table.column_names), strict=True):
        got.setdefault(c, set()).add(d)
        assert c == min(got[c]) or c < d
    assert sorted(map(sorted, got.values())) == sorted(map(sorted, clusters))
    assert table.column("cluster_size").to_pylist() == sorted(
        (len(c) for c in clusters for _ in c), reverse=True
    )
    counts = duplicate_counts(ix)
    expected = np.ones(ix.n_docs, dtype=np.int64)
    for c in clusters:
        expected[list(c)] = len(c)
    assert np.array_equal(counts, expected)


def test_verify_detects_damaged_minhash_files(corpus, tmp_path) -> None:
    ix, _, _ = corpus
    assert verify_minhash(ix.path) == [] and verify_index(ix.path)["ok"]
    cases = {
        "bands.parquet": lambda p: p.write_bytes(
            p.read_bytes()[:100] + b"X" + p.read_bytes()[101:]
        ),
        "signatures.parquet": lambda p: p.write_bytes(p.read_bytes()[:-1000]),
        "minhash.json": lambda p: p.unlink(),
    }
    for name, damage in cases.items():
        copy = tmp_path / name
        shutil.copytree(ix.path, copy)
        damage(copy / "minhash" / name)
        problems = verify_minhash(copy)
        assert problems and all(name in p for p in problems), problems
        assert not verify_index(copy)["ok"]


def test_rebuild_with_same_parameters_is_skipped(corpus, capsys) -> None:
    ix, _, _ = corpus
    before = (ix.path / "minhash" / "bands.parquet").stat().st_mtime_ns
    record = build_minhash(ix.path, ix.tokenizer, ix.width, ix.manifest["shards"])
    assert record == ix.manifest["minhash"] and "skipped" in capsys.readouterr().out
    assert (ix.path / "minhash" / "bands.parquet").stat().st_mtime_ns == before


def test_bytes_index_across_shards_and_small_chunks(tmp_path, monkeypatch) -> None:
    """Many shards (u8 bytes) and chunks of 7 docs: doc ids and row groups line up."""
    monkeypatch.setattr(build_mod, "CHUNK_DOCS", 7)
    monkeypatch.setattr(build_mod, "CHUNK_TOKENS", 3000)
    texts, _ = _corpus(seed=4)
    src = write_jsonl(tmp_path / "c.jsonl", [*texts[:120], "", "ab"])  # "" is skipped
    path = build_index(src, tmp_path / "b", tokenizer="bytes", shard_tokens=20_000, workers=2)
    ix = open_index(path)
    assert len(ix.shards) > 3 and ix.manifest["minhash"]["n_docs"] == ix.n_docs == 121
    assert pq.ParquetFile(path / "minhash" / "signatures.parquet").metadata.num_row_groups > 10
    hits = near_duplicates(ix, [texts[d] for d in (0, 57, 119)] + ["ab"])
    assert [h[0]["doc_id"] for h in hits] == [0, 57, 119, 120]
    assert verify_minhash(path) == []


def test_index_methods_reach_the_minhash_index(tmp_path) -> None:
    """``Index.near_duplicates`` / ``Index.duplicates`` are the module functions' API faces."""
    from corpusmap.index.opening import open_index
    from tests.conftest import build_from_docs

    base = "the quick brown fox jumps over the lazy dog near the quiet river bank today"
    texts = [base, base + " again", "something else entirely about other unrelated matters here"]
    ix = open_index(build_from_docs(tmp_path, texts, tokenizer="words", minhash=True))
    hits = ix.near_duplicates(base, threshold=0.5)
    assert [h["doc_id"] for h in hits][:1] == [0] and hits[0]["jaccard"] == 1.0
    batch = ix.near_duplicates([base, "nothing like it at all, zebra"], threshold=0.5)
    assert batch[0] == hits and batch[1] == []
    clusters = ix.duplicates(threshold=0.5).to_pylist()
    assert {c["doc_id"] for c in clusters} == {0, 1}
