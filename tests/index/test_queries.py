"""Index queries against naive scans, on random corpora of every token width."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpusmap.index.opening import open_index
from tests.conftest import build_from_docs
from tests.index import naive

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))

corpora = st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=30), min_size=1, max_size=8)
queries = st.lists(st.lists(st.integers(0, 4), min_size=0, max_size=6), min_size=1, max_size=10)


def _check_all(ix, docs, qs) -> None:
    assert ix.count(qs) == [naive.count(docs, q) for q in qs]
    for q, hits in zip(qs, ix.locate(qs, limit=10**6), strict=True):
        if not q:
            continue
        assert [(h["doc_id"], h["offset"]) for h in hits] == naive.occurrences(docs, q)
    for q, ms in zip(qs, ix.matching_statistics(qs), strict=True):
        assert ms.tolist() == naive.matching_statistics(docs, q)
    for q, res in zip(qs, ix.ntd(qs), strict=True):
        used, nxt = naive.ntd(docs, q)
        assert res["length_used"] == used
        assert {d["token"]: d["count"] for d in res["distribution"]} == dict(nxt)


@SETTINGS
@given(docs=corpora, qs=queries)
def test_queries_match_naive_scan_u16(tmp_path_factory, docs, qs) -> None:
    tmp = tmp_path_factory.mktemp("q")
    ix = open_index(build_from_docs(tmp, docs, vocab=1000))
    assert ix.width == "u16"
    _check_all(ix, docs, qs)


@SETTINGS
@given(docs=corpora, qs=queries, shard_tokens=st.integers(1, 40))
def test_multi_shard_equals_naive_u32(tmp_path_factory, docs, qs, shard_tokens) -> None:
    """Many shards (documents never split) answer exactly like a scan; u32 width."""
    tmp = tmp_path_factory.mktemp("s")
    ix = open_index(build_from_docs(tmp, docs, vocab=70_000, shard_tokens=shard_tokens))
    assert ix.width == "u32"
    _check_all(ix, docs, qs)


@SETTINGS
@given(
    texts=st.lists(st.text(alphabet="ab c\n", min_size=1, max_size=40), min_size=1, max_size=6),
    qs=st.lists(st.text(alphabet="abc ", max_size=5), min_size=1, max_size=8),
)
def test_bytes_index_u8(tmp_path_factory, texts, qs) -> None:
    tmp = tmp_path_factory.mktemp("b")
    texts = [t for t in texts if t.strip()] or ["a"]
    ix = open_index(build_from_docs(tmp, texts))
    assert ix.width == "u8"
    docs = [list(t.encode()) for t in texts]
    _check_all(ix, docs, [list(q.encode()) for q in qs])
    assert ix.count(qs) == [naive.count(docs, list(q.encode())) for q in qs]


def test_single_and_multi_shard_agree(tmp_path) -> None:
    rng = np.random.default_rng(7)
    docs = [rng.integers(0, 50, size=rng.integers(5, 200)).tolist() for _ in range(60)]
    one = open_index(build_from_docs(tmp_path, docs, name="one", vocab=60))
    many = open_index(build_from_docs(tmp_path, docs, name="many", vocab=60, shard_tokens=300))
    assert len(many.shards) > 5
    qs = [docs[i][j : j + k] for i, j, k in rng.integers(0, 5, size=(200, 3))] + [
        rng.integers(0, 50, size=3).tolist() for _ in range(100)
    ]
    assert one.count(qs) == many.count(qs)
    for a, b in zip(one.matching_statistics(qs), many.matching_statistics(qs), strict=True):
        assert np.array_equal(a, b)
    assert one.ntd(qs[:50]) == many.ntd(qs[:50])
    assert [one.document(i) for i in range(60)] == [many.document(i) for i in range(60)]


def test_worked_example(tmp_path, tiny_corpus) -> None:
    """Counted by hand over the four tiny documents (bytes tokenizer)."""
    ix = open_index(build_from_docs(tmp_path, tiny_corpus))
    assert ix.count("the cat sat") == 2
    assert ix.count(["cat", "dog", "on the ", "mat the"]) == [3, 2, 2, 0]
    hits = ix.locate("sat on the", limit=5)
    assert [(h["doc_id"], h["offset"]) for h in hits] == [(0, 8), (1, 8)]
    # "the cat sat" ends doc 3, so no match may run into the next document
    assert ix.longest_match("the cat sat the dog") == {"start": 0, "length": 12}
    res = ix.ntd("sat on the ")
    assert res["length_used"] == len("sat on the ")
    assert {d["text"]: d["count"] for d in res["distribution"]} == {"m": 1, "l": 1}
    assert ix.document(2) == "a cat and a dog"
    assert ix.document_info(2)["row"] == 3


def test_unknown_words_match_nothing(tmp_path, tiny_corpus) -> None:
    ix = open_index(build_from_docs(tmp_path, tiny_corpus, tokenizer="words"))
    assert ix.spec.kind == "words"
    assert ix.count(["the cat", "the zebra", "zebra"]) == [2, 0, 0]
    assert ix.matching_statistics("the zebra sat on").tolist() == [1, 0, 2, 1]
    assert ix.document(0) == "the cat sat on the mat"


def test_separator_and_out_of_range_ids_never_match(tmp_path) -> None:
    ix = open_index(build_from_docs(tmp_path, [[1, 2], [3, 4]], vocab=10))
    assert ix.count([[2, 3], [2, ix.separator, 3], [ix.separator], [-5]]) == [0, 0, 0, 0]
