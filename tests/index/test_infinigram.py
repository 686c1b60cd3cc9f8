"""infini-gram index folders, built by the real infini-gram indexer, opened by corpusmap.

Every answer is compared with infini-gram's own engine on the same folder: counts,
next-token distributions (exact: ``approx`` false; the engine reports document ends
as its ``eos`` id, which we leave out as we never count them) and document tokens.
Worked example (u8, one shard): the documents "hello world", "the cat sat on the
mat", "hello cat" and two more hold "hello" twice, "at" eight times, and the text of doc 2 is
"hello cat"; with two shards infini-gram deals documents round-robin, so doc 1 is
"hello cat" (shard 0 holds input 0 and 2).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpusmap.errors import CorpusmapError
from corpusmap.index.opening import open_index
from tests.index import infinigram_peer as peer

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
TEXTS = [
    "hello world",
    "the cat sat on the mat",
    "hello cat",
    "a cat, a hat, a mat: that is all",
    "tête-à-tête über café",
]
RNG = np.random.default_rng(7)
U16_DOCS = [
    [int(t) for t in RNG.choice([1, 2, 3, 256, 257, 513, 770, 65000], size=RNG.integers(1, 30))]
    for _ in range(40)
]


@pytest.fixture(scope="module")
def u8_index(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("ig8")
    path = peer.build_u8(tmp, TEXTS, shards=2, metadata=True)
    return path, open_index(path, cache_dir=tmp / "cache"), peer.engine(path, "u8")


@pytest.fixture(scope="module")
def u16_index(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("ig16")
    path = peer.build_u16(tmp, U16_DOCS, shards=3)
    ix = open_index(path, tokenizer="ids:65100", cache_dir=tmp / "cache")
    return path, ix, peer.engine(path, "u16")


def _check_ntd(ix, eng, q: list[int], eos: int, by_count: bool = False) -> None:
    """Where the whole context occurs followed by a token, both give the same counts.

    ``by_count``: the engine's count of ``q + [t]`` for every token either side names
    is the reference (its ``ntd`` undercounts on our u16 multi-shard folder: for
    ``[65000]`` it reports 55 continuations where a scan of the documents finds 81).
    """
    if not q or ix.continued_count([q])[0] == 0:
        return
    res = ix.ntd(q)
    theirs = eng.ntd(q, max_support=10**6)
    assert not theirs["approx"] and res["length_used"] == len(q)
    mine = {d["token"]: d["count"] for d in res["distribution"]}
    want = {t: v["cont_cnt"] for t, v in theirs["result_by_token_id"].items() if t != eos}
    if by_count:
        want = {t: eng.count([*q, t])["count"] for t in set(want) | set(mine)}
        want = {t: c for t, c in want.items() if c}
    assert mine == want


def test_worked_example(u8_index) -> None:
    path, ix, _ = u8_index
    assert ix.width == "u8" and ix.n_docs == 5 and len(ix.shards) == 2
    assert ix.count(["hello", "at", "zz"]) == [2, 8, 0]
    assert ix.document(1) == "hello cat"
    hit = ix.locate("sat")[0]
    assert hit["doc_id"] == ix.n_docs - 2 and hit["meta"] == {"id": "d1"}
    assert hit["source"] == "docs.jsonl" and hit["row"] == 1
    assert not list(path.glob("*cache*")) and not (path / "manifest.json").exists()


@SETTINGS
@given(data=st.data())
def test_u8_matches_engine(u8_index, data) -> None:
    _, ix, eng = u8_index
    text = data.draw(st.sampled_from(TEXTS)).encode()
    i = data.draw(st.integers(0, len(text)))
    q = list(text[i : i + data.draw(st.integers(0, 8))])
    q = q if data.draw(st.booleans()) else q + data.draw(st.lists(st.integers(0, 253), max_size=2))
    assert ix.count([q])[0] == eng.count(q)["count"]
    _check_ntd(ix, eng, q, peer.EOS_U8)


@SETTINGS
@given(data=st.data())
def test_u16_matches_engine(u16_index, data) -> None:
    _, ix, eng = u16_index
    doc = data.draw(st.sampled_from(U16_DOCS))
    i = data.draw(st.integers(0, len(doc)))
    q = doc[i : i + data.draw(st.integers(0, 6))]
    if data.draw(st.booleans()):
        q = q + data.draw(st.lists(st.sampled_from([1, 2, 256, 513, 4, 65000]), max_size=2))
    assert ix.count([q])[0] == eng.count(q)["count"]
    _check_ntd(ix, eng, q, peer.EOS_U16, by_count=True)
    ms = ix.matching_statistics([q])[0]
    for k in range(len(q)):  # ms[k] is the longest prefix of q[k:] the engine counts
        assert eng.count(q[k : k + int(ms[k])])["count"] > 0
        if k + ms[k] < len(q):
            assert eng.count(q[k : k + int(ms[k]) + 1])["count"] == 0


def test_documents_equal_engine(u8_index, u16_index) -> None:
    for _, ix, eng in (u8_index, u16_index):
        for d in range(ix.n_docs):
            want = eng.get_doc_by_ix(d, max_disp_len=10**6)["token_ids"]
            assert ix.document_tokens(d).tolist() == want
    _, ix8, _ = u8_index
    order = peer.shard_order(len(TEXTS), 2)
    assert [ix8.document(d) for d in range(ix8.n_docs)] == [TEXTS[i] for i in order]


def test_u16_without_tokenizer_is_a_clear_error(u16_index) -> None:
    path, _, _ = u16_index
    with pytest.raises(CorpusmapError, match="--tokenizer"):
        open_index(path)


def test_cache_dir_holds_the_table(u16_index, tmp_path) -> None:
    path, ix, _ = u16_index
    again = open_index(path, tokenizer="ids:65100", cache_dir=tmp_path)
    assert again.count([[1, 2]]) == ix.count([[1, 2]])
    assert list(tmp_path.rglob("first-token-table.*.npy"))


@pytest.mark.slow
def test_classify_same_rows_as_our_index(tmp_path) -> None:
    """Generations classified against both indexes of the same documents: same rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpusmap.match import classify
    from tests.conftest import build_from_docs

    texts = [f"{t} and the cat number {i} sat" for i, t in enumerate(TEXTS * 4)]
    ig = open_index(peer.build_u8(tmp_path, texts), cache_dir=tmp_path / "cache")
    ours = open_index(build_from_docs(tmp_path, texts))
    outs = [f"{texts[i][:12]} the mat, hello world {i}" for i in range(12)]
    table = pa.table(
        {
            "gen_id": [f"g{i}" for i in range(12)],
            "prompt_id": [f"p{i % 3}" for i in range(12)],
            "prompt": [texts[i % 3][:10] for i in range(12)],
            "output": outs,
        }
    )
    res = [
        classify(table, ix, tmp_path / name, min_span=4, minhash=False, patterns=True)
        for name, ix in (("ig", ig), ("ours", ours))
    ]
    names = sorted(p.relative_to(res[0]) for p in res[0].rglob("*.parquet"))
    assert names and names == sorted(p.relative_to(res[1]) for p in res[1].rglob("*.parquet"))
    assert pq.read_table(res[0] / "spans").num_rows > 0
    for name in names:
        if "generations_index" in name.parts:
            continue
        a, b = (pq.read_table(r / name) for r in res)
        assert a.num_rows == b.num_rows and a.to_pylist() == b.to_pylist(), name
