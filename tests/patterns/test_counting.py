"""N-gram enumeration off suffix arrays against plain scans; duplicates; other tokenizers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusmap.index.opening import open_index
from corpusmap.patterns import classify_patterns
from corpusmap.patterns.generations_index import build_generations, load_generations
from corpusmap.patterns.ngrams import match_rows, sequence_ngrams, unique_rows
from corpusmap.patterns.run import encode_generations
from corpusmap.tokenizer.batch import TokenBatch
from tests.conftest import build_from_docs
from tests.patterns.planted import naive_classes, ngram_counts


def _table(texts: list[str]) -> pa.Table:
    n = len(texts)
    ids = [str(i) for i in range(n)]
    return pa.table({"gen_id": ids, "prompt_id": ids, "prompt": [""] * n, "output": texts})


@pytest.mark.parametrize("shard_tokens", [None, 90, 250])
def test_generation_runs_match_naive(tmp_path: Path, shard_tokens: int | None) -> None:
    """G's n-grams, counts and holders equal a plain scan, over one shard or several."""
    rng = np.random.default_rng(0)
    gens = [rng.integers(0, 6, rng.integers(0, 25)).tolist() for _ in range(60)]
    ix = open_index(build_from_docs(tmp_path, [[1, 2, 3]], vocab=6))
    texts = [" ".join(map(str, g)) for g in gens]
    tok, encoded = encode_generations(ix.tokenizer, _table(texts))
    build_generations(tmp_path, encoded["output"], tok, shard_tokens=shard_tokens)
    g = load_generations(tmp_path, encoded["output"])
    assert (len(g.index.shards) > 1) == (shard_tokens is not None)
    assert [texts[r] for r in g.rows] == [t for t in texts if t]  # doc -> table row
    nonempty = [x for x in gens if x]
    for k in (1, 3):
        grams = g.ngrams({n: k for n in (1, 2, 3, 5)})
        for n, (toks, cnt, docs) in grams.items():
            count, holders = ngram_counts(nonempty, n)
            got = {
                tuple(t): (int(c), int(h)) for t, c, h in zip(toks.tolist(), cnt, docs, strict=True)
            }
            want = {t: (count[t], holders[t]) for t in count if holders[t] >= k}
            assert got == want, (n, k)
            assert toks.tolist() == sorted(toks.tolist())  # token order
        queries = TokenBatch.from_rows(grams[2][0])
        holders_of = [sorted({d for d, x in enumerate(nonempty) if _holds(x, t)})[:3]
                      for t in grams[2][0].tolist()]  # fmt: skip
        assert g.first_docs(queries, 3) == holders_of
        ends = [sum(1 for x in nonempty for i in range(len(x) - 2) if x[i : i + 2] == t)
                for t in grams[2][0].tolist()]  # fmt: skip
        assert g.continued_count(queries).tolist() == ends


def _holds(seq: list[int], t: list[int]) -> bool:
    return any(seq[i : i + len(t)] == t for i in range(len(seq) - len(t) + 1))


@pytest.mark.parametrize("shard_tokens", [None, 400])
def test_frequent_corpus_ngrams_finds_every_frequent_one(
    tmp_path: Path, shard_tokens: int | None
) -> None:
    rng = np.random.default_rng(1)
    docs = [rng.integers(0, 5, rng.integers(1, 60)).tolist() for _ in range(80)]
    kw = {"shard_tokens": shard_tokens} if shard_tokens else {}
    ix = open_index(build_from_docs(tmp_path, docs, vocab=5, **kw))
    assert (len(ix.shards) > 1) == bool(shard_tokens)
    c_min = {2: 30.0, 3: 7.5, 4: 1.0, 5: 3.0}
    found = ix.frequent_ngrams(c_min)
    for n, c in c_min.items():
        count, _ = ngram_counts(docs, n)
        want = {t for t, k in count.items() if k >= math.ceil(c)}
        got = {tuple(t) for t in found[n].tolist()}
        assert want <= got, n  # never misses one; extras are filtered by exact counts
        assert got <= set(count)  # and only real corpus n-grams


def test_row_helpers() -> None:
    a = np.array([[1, 2], [3, 4], [1, 3]])
    b = np.array([[3, 4], [9, 9], [1, 2], [1, 3]])
    assert match_rows(a, b).tolist() == [1, -1, 0, 2]
    assert unique_rows(np.array([[2, 1], [1, 2], [2, 1]])).tolist() == [[1, 2], [2, 1]]
    batch = TokenBatch.from_items([[1, 2, 3], [1, 2], [7, 1, 2]])
    assert sequence_ngrams(batch, 2).tolist() == [[1, 2], [2, 3], [7, 1]]  # not [2, 7]


def test_repeats_inside_generations_do_not_swamp(tmp_path: Path) -> None:
    """A phrase repeated 6 times in each of 3 generations ranks level with one said once in
    each of 3 (keyness counts generations); one generation looping a phrase is no pattern."""
    rng = np.random.default_rng(2)
    vocab = [f"w{i}" for i in range(3000)]

    def rand(k: int) -> str:
        return " ".join(vocab[i] for i in rng.integers(0, len(vocab), k))

    ix = open_index(build_from_docs(tmp_path, [rand(50) for _ in range(100)], tokenizer="words"))
    gens = [rand(20) for _ in range(40)]
    for k in range(3):
        gens[k] += " spread alpha beta " + rand(3)
        gens[3 + k] += "".join(f" loop gamma delta {rand(2)}" for _ in range(6))
    gens[6] += "".join(f" solo eps zeta {rand(2)}" for _ in range(20))
    classify_patterns(tmp_path / "r", _table(gens), ix)
    rows = pq.read_table(tmp_path / "r" / "patterns" / "part-00000.parquet").to_pylist()
    idio = {r["pattern"]: r for r in rows if r["class"] == "idiosyncratic"}
    assert set(idio) == {"spread alpha beta", "loop gamma delta"}
    assert idio["loop gamma delta"]["count_generations"] == 18
    assert idio["loop gamma delta"]["keyness"] == pytest.approx(
        idio["spread alpha beta"]["keyness"]
    )
    assert idio["loop gamma delta"]["g2"] > idio["spread alpha beta"]["g2"]  # raw G² is not


def test_bytes_tokenizer_against_naive(tmp_path: Path) -> None:
    """Byte n-grams (default 20..32): a copied 40-byte span is kept as its 32-byte windows,
    and both n-gram classes equal the plain-scan reference."""
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(3000)]

    def rand(k: int) -> str:
        return " ".join(vocab[i] for i in rng.integers(0, len(vocab), k))

    span = "the quick brown fox jumps over a lazy do"  # 40 bytes
    docs = [rand(30) for _ in range(60)]
    docs[5] += " " + span + " " + rand(3)
    ix = open_index(build_from_docs(tmp_path, docs))
    gens = [rand(10) for _ in range(30)]
    for k in range(3):
        gens[k] += " xx" + span + "yy " + rand(2)
        gens[10 + k] += " zqxv plorbing wuggles!! " + rand(2)
    summary = classify_patterns(tmp_path / "r", _table(gens), ix)
    assert summary["thresholds"]["n_min"] == 20 and summary["unit"] == "bytes"
    rows = pq.read_table(tmp_path / "r" / "patterns" / "part-00000.parquet").to_pylist()
    got = {c: {r["pattern"] for r in rows if r["class"] == c} for c in ("shared", "idiosyncratic")}
    assert got["shared"] == {span[i : i + 32] for i in range(40 - 32 + 1)}
    ref = naive_classes([list(d.encode()) for d in docs], [list(g.encode()) for g in gens],
                        range(20, 33), 3)  # fmt: skip
    for cls, grams in ref.items():
        assert got[cls] == {bytes(t).decode() for t in grams}, cls


def test_empty_outputs(tmp_path: Path) -> None:
    ix = open_index(build_from_docs(tmp_path, ["a b c d"], tokenizer="words"))
    summary = classify_patterns(tmp_path / "r", _table(["", "  "]), ix)
    assert all(v["rows"] == 0 for v in summary["classes"].values())
    assert pq.read_table(tmp_path / "r" / "patterns" / "part-00000.parquet").num_rows == 0


def test_hf_tokenizer_against_naive(tmp_path: Path) -> None:
    """Subword tokens (the embedded SmolLM2 tokenizer; n = 4..8): same rules, same reference."""
    from corpusmap.errors import CorpusmapError

    rng = np.random.default_rng(4)
    vocab = ["apple", "river", "stone", "cloud", "music", "green", "window", "paper", "silver",
             "garden", "mountain", "coffee", "yellow", "engine", "forest", "pencil"]  # fmt: skip

    def rand(k: int) -> str:
        return " ".join(vocab[i] for i in rng.integers(0, len(vocab), k))

    span = " the committee approved the unusual proposal after a long debate"
    docs = [rand(40) for _ in range(100)]
    docs[3] += span
    try:
        ix = open_index(build_from_docs(tmp_path, docs, tokenizer="smollm2"))
    except (CorpusmapError, ImportError, OSError) as exc:
        pytest.skip(f"embedded SmolLM2 tokenizer unavailable: {exc}")
    gens = [rand(15) for _ in range(40)]
    for k in range(4):
        gens[k] += span + " " + rand(2)
        gens[10 + k] += " Zyxq blorptastic quuxification " + rand(2)
    classify_patterns(tmp_path / "r", _table(gens), ix)
    rows = pq.read_table(tmp_path / "r" / "patterns" / "part-00000.parquet").to_pylist()
    tok = ix.tokenizer
    encoded_docs = [tok.encode(d).tolist() for d in docs]
    ref = naive_classes(encoded_docs, [tok.encode(g).tolist() for g in gens], range(4, 9), 3)
    for cls, grams in ref.items():
        assert {tuple(r["tokens"]) for r in rows if r["class"] == cls} == grams, cls
    shared = {r["pattern"] for r in rows if r["class"] == "shared"}
    assert shared and all(p in span for p in shared)
