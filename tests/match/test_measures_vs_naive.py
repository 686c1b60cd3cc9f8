"""classify's per-generation measures against naive references on small corpora."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusmap.errors import CorpusmapError
from corpusmap.index.opening import open_index
from corpusmap.match import classify
from corpusmap.match import run as run_mod
from tests.conftest import build_from_docs
from tests.index import naive


def _ids(seq: list[int]) -> str:
    return " ".join(map(str, seq))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(11)
    docs = [rng.integers(0, 40, size=rng.integers(20, 80)).tolist() for _ in range(30)]
    path = build_from_docs(tmp_path_factory.mktemp("c"), docs, vocab=50)
    return docs, open_index(path)


def _generations(docs: list[list[int]], rng: np.random.Generator, n: int = 40):
    rows = []
    for g in range(n):
        d = int(rng.integers(0, len(docs)))
        doc = docs[d]
        o = int(rng.integers(0, len(doc) - 12))
        prompt = doc[o : o + 6]
        kind = g % 4
        if kind == 0:  # copies the true continuation, then noise
            out = doc[o + 6 : o + 12] + rng.integers(0, 40, size=8).tolist()
        elif kind == 1:  # copies the prompt itself
            out = prompt + rng.integers(0, 40, size=5).tolist()
        elif kind == 2:  # straddles the end of one document and the start of the next
            nxt = docs[(d + 1) % len(docs)]
            out = doc[-5:] + nxt[:5]
        else:  # random
            out = rng.integers(0, 40, size=int(rng.integers(0, 15))).tolist()
        rows.append(
            {
                "gen_id": f"g{g}",
                "prompt_id": f"p{g}",
                "prompt": _ids(prompt),
                "output": _ids(out),
                "continuation": _ids(doc[o + 6 : o + 12]),
                "doc_id": d,
                "_prompt": prompt,
                "_out": out,
                "_cont": doc[o + 6 : o + 12],
            }
        )
    return rows


def _maximal_spans(docs, q, min_span):
    """(start, length) of matches that extend neither left nor right, by brute force."""
    res = []
    for i in range(len(q)):
        for j in range(i + min_span, len(q) + 1):
            if naive.count(docs, q[i:j]) == 0:
                break
            right = j == len(q) or naive.count(docs, q[i : j + 1]) == 0
            left = i == 0 or naive.count(docs, q[i - 1 : j]) == 0
            if right and left:
                res.append((i, j - i))
    return res


def _contains(hay: list[int], needle: list[int]) -> bool:
    return any(hay[k : k + len(needle)] == needle for k in range(len(hay) - len(needle) + 1))


def test_measures_match_naive_references(corpus, tmp_path) -> None:
    docs, ix = corpus
    rows = _generations(docs, np.random.default_rng(5))
    table = pa.Table.from_pylist(
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    )
    out = classify(
        table,
        ix,
        tmp_path / "res",
        min_span=3,
        coverage_lengths=[2, 4],
        max_n=3,
        repetition_n=2,
        minhash=False,
        patterns=False,
        shard_rows=7,
    )
    gens = {r["gen_id"]: r for r in pq.read_table(out / "generations").to_pylist()}
    spans = pq.read_table(out / "spans").to_pylist()
    for r in rows:
        g, q, prompt = gens[r["gen_id"]], r["_out"], r["_prompt"]
        ms = naive.matching_statistics(docs, q)
        assert g["n_tokens"] == len(q)
        assert g["longest_match"] == max(ms, default=0)
        mine = sorted((s["start"], s["length"]) for s in spans if s["gen_id"] == r["gen_id"])
        assert mine == sorted(_maximal_spans(docs, q, 3))
        for s in spans:
            if s["gen_id"] == r["gen_id"]:
                span = q[s["start"] : s["start"] + s["length"]]
                assert s["corpus_count"] == naive.count(docs, span)
                assert s["in_prompt"] == _contains(prompt, span)
                assert set(s["doc_ids"]) <= {d for d, _ in naive.occurrences(docs, span)}
        for L, cov in zip([2, 4], g["coverage"], strict=True):
            covered = {j for i, m in enumerate(ms) if m >= L for j in range(i, i + m)}
            assert cov == pytest.approx(len(covered) / len(q)) if q else cov is None
        for n, nov in enumerate(g["novelty"], start=1):
            grams = [q[i : i + n] for i in range(len(q) - n + 1)]
            if grams:
                assert nov == pytest.approx(
                    sum(naive.count(docs, x) == 0 for x in grams) / len(grams)
                )
            else:
                assert nov is None or np.isnan(nov)
        nonprompt = [m for i, m in enumerate(ms) if m and not _contains(prompt, q[i : i + m])]
        assert g["longest_nonprompt_match"] == max(nonprompt, default=0)
        cont = r["_cont"]
        lead = next((k for k in range(len(cont)) if k >= len(q) or q[k] != cont[k]), len(cont))
        assert g["prefix_match"] == lead and g["extracted"] == (lead == len(cont))
        assert g["dup_count"] == naive.count(docs, prompt + cont)
        bigrams = [tuple(q[i : i + 2]) for i in range(len(q) - 1)]
        if bigrams:
            assert g["self_repetition"] == pytest.approx(1 - len(set(bigrams)) / len(bigrams))


def test_prompt_copy_is_not_training_copy(corpus, tmp_path) -> None:
    """A generation repeating its prompt has corpus spans marked in_prompt, and
    longest_nonprompt_match ignores them."""
    docs, ix = corpus
    prompt = docs[3][:15]
    table = pa.table({"prompt": [_ids(prompt)], "output": [_ids(prompt)]})
    out = classify(table, ix, tmp_path / "r", min_span=5, minhash=False, patterns=False)
    span = pq.read_table(out / "spans").to_pylist()
    assert span and all(s["in_prompt"] for s in span)
    g = pq.read_table(out / "generations").to_pylist()[0]
    assert g["longest_match"] >= 15 and g["longest_nonprompt_match"] == 0
    assert g["extracted"] is None  # no continuation: not an extraction prompt


def test_human_baseline_is_held_out_from_its_document(corpus, tmp_path) -> None:
    docs, ix = corpus
    rows = _generations(docs, np.random.default_rng(9), n=12)
    table = pa.Table.from_pylist(
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    )
    out = classify(table, ix, tmp_path / "r", min_span=3, max_n=3, minhash=False, patterns=False)
    base = {b["prompt_id"]: b for b in pq.read_table(out / "baseline").to_pylist()}
    for r in rows:
        others = [d for k, d in enumerate(docs) if k != r["doc_id"]]
        ms = naive.matching_statistics(others, r["_cont"])
        assert base[r["prompt_id"]]["longest_match"] == max(ms, default=0)


def test_resume_after_crash_and_refusal(corpus, tmp_path, monkeypatch) -> None:
    docs, ix = corpus
    rows = _generations(docs, np.random.default_rng(2), n=30)
    table = pa.Table.from_pylist(
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    )
    args = dict(min_span=3, minhash=False, patterns=False, shard_rows=5)
    real, calls = run_mod.score_shard, []

    def crashing(*a):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("simulated crash")
        return real(*a)

    monkeypatch.setattr(run_mod, "score_shard", crashing)
    with pytest.raises(RuntimeError):
        classify(table, ix, tmp_path / "r", **args)
    assert len(list((tmp_path / "r" / "generations").glob("*.parquet"))) == 2
    calls.clear()
    monkeypatch.setattr(run_mod, "score_shard", lambda *a: (calls.append(1), real(*a))[1])
    classify(table, ix, tmp_path / "r", **args)
    assert len(calls) == 4  # 6 shards, 2 already done
    fresh = classify(table, ix, tmp_path / "fresh", **args)
    a = pq.read_table(tmp_path / "r" / "generations").sort_by("gen_id")
    b = pq.read_table(fresh / "generations").sort_by("gen_id")
    assert repr(a.to_pylist()) == repr(b.to_pylist())  # repr: NaN-aware equality
    with pytest.raises(CorpusmapError, match="--force"):
        classify(table, ix, tmp_path / "r", **{**args, "min_span": 4})


def test_any_dump_with_named_fields(corpus, tmp_path) -> None:
    docs, ix = corpus
    dump = tmp_path / "other.jsonl"
    dump.write_text(
        json.dumps({"q": "1 2", "a": _ids(docs[0][:9]), "uid": "x"})
        + "\n"
        + json.dumps({"q": "", "a": "", "uid": "y"})
        + "\n"
    )
    out = classify(
        dump,
        ix,
        tmp_path / "r",
        prompt_field="q",
        output_field="a",
        id_field="uid",
        min_span=3,
        minhash=False,
        patterns=False,
    )
    g = {r["gen_id"]: r for r in pq.read_table(out / "generations").to_pylist()}
    assert g["x"]["longest_match"] == 9 and g["y"]["n_tokens"] == 0
    with pytest.raises(CorpusmapError, match="no output column 'answer'"):
        classify(dump, ix, tmp_path / "r2", output_field="answer", minhash=False, patterns=False)


def test_dup_count_with_ids_on_some_rows_only(corpus, tmp_path) -> None:
    """Rows without make_prompts' index ids fall back to their texts, row by row."""
    docs, ix = corpus
    a, b = docs[1][:5], docs[1][5:9]
    table = pa.Table.from_pylist([
        {"gen_id": "with", "prompt": _ids(a), "output": "1", "continuation": _ids(b),
         "index_prompt_ids": a, "index_continuation_ids": b, "kind": "x"},
        {"gen_id": "without", "prompt": _ids(a), "output": "1", "continuation": _ids(b),
         "index_prompt_ids": None, "index_continuation_ids": None, "kind": "y"},
    ])  # fmt: skip
    out = classify(table, ix, tmp_path / "r", minhash=False, patterns=False)
    rows = {r["gen_id"]: r for r in pq.read_table(out / "generations").to_pylist()}
    assert rows["with"]["dup_count"] == rows["without"]["dup_count"] == naive.count(docs, a + b)
    assert rows["without"]["kind"] == "y"  # scalar input columns ride along
