"""Planted ground truth: each class is recovered exactly, and nothing else (see ``planted``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from scipy.stats import chi2_contingency

from corpusmap.index.opening import open_index
from corpusmap.patterns import classify_patterns
from tests.conftest import build_from_docs
from tests.patterns.planted import EXPECTED, T1, U1, World, make_world, naive_classes, naive_count


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module", params=[None, 3000], ids=["one-shard", "many-shards"])
def result(request: Any, world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("planted")
    kw = {} if request.param is None else {"shard_tokens": request.param}
    ix = open_index(build_from_docs(tmp, world.texts, tokenizer="words", **kw))
    assert (len(ix.shards) > 1) == (request.param is not None)
    summary = classify_patterns(tmp / "results", world.table, ix)
    rows = pq.read_table(tmp / "results" / "patterns" / "part-00000.parquet").to_pylist()
    return {"summary": summary, "rows": rows, "out": tmp / "results", "ix": ix}


def test_recovers_exactly_the_planted_patterns(result: dict[str, Any]) -> None:
    found: dict[str, set[str]] = {c: set() for c in EXPECTED}
    for r in result["rows"]:
        found[r["class"]].add(r["pattern"])
    for cls, want in EXPECTED.items():
        assert found[cls] == want, cls  # precision and recall 1
    assert len(result["rows"]) == sum(len(v) for v in EXPECTED.values())  # no duplicates


def test_ngram_classes_equal_the_plain_scan(result: dict[str, Any], world: World) -> None:
    ref = naive_classes(world.docs, world.gens, range(3, 7), 3)
    for cls, grams in ref.items():
        assert {r["pattern"] for r in result["rows"] if r["class"] == cls} == {
            " ".join(t) for t in grams
        }


def test_summary(result: dict[str, Any]) -> None:
    s = result["summary"]
    json.dumps(s)  # JSON-serialisable
    assert s["unit"] == "words" and s["thresholds"]["n_min"] == 3 and s["thresholds"]["n_max"] == 6
    for cls, want in EXPECTED.items():
        assert s["classes"][cls]["rows"] == s["classes"][cls]["patterns"] == len(want)
    # before keeping closed n-grams, every 3..6-word window of S1 is its own shared n-gram
    assert s["classes"]["shared"]["ngrams"] > s["classes"]["shared"]["patterns"]


def test_counts_match_a_naive_scan(result: dict[str, Any], world: World) -> None:
    for r in result["rows"]:
        words = r["pattern"].split()
        if r["kind"] == "trigger":
            words = [*words, r["continuation"]]
        assert r["count_corpus"] == naive_count(world.docs, words)[0], r["pattern"]
        count_g, n_gen = naive_count(world.gens, words)
        assert r["count_generations"] == count_g and r["n_generations"] == n_gen, r["pattern"]
        assert len(r["tokens"]) == r["n"] == len(r["pattern"].split())


def test_statistics_of_rows(result: dict[str, Any]) -> None:
    for r in result["rows"]:
        a, b = r["count_generations"], r["count_corpus"]
        n_a, n_b = r["opportunities_generations"], r["opportunities_corpus"]
        assert r["rate_generations"] == pytest.approx(a / n_a)
        assert r["rate_corpus"] == pytest.approx(b / n_b)
        assert r["expected_generations"] == pytest.approx(b / n_b * n_a)
        table = [[a, n_a - a], [b, n_b - b]]
        g2, p, _, _ = chi2_contingency(table, correction=False, lambda_="log-likelihood")
        assert r["g2"] == pytest.approx(g2, rel=1e-9) and r["p_value"] == pytest.approx(p, rel=1e-6)
        over_used = r["n_generations"] / n_a > b / n_b  # keyness counts generations, not hits
        assert (r["keyness"] > 0) == (over_used != (r["class"] == "unexpressed")), r["pattern"]
        assert (r["divergence"] is None) == (r["class"] != "contingent")
        assert (r["p_poisson"] is None) == (r["class"] != "unexpressed")


def test_ngram_opportunities(result: dict[str, Any], world: World) -> None:
    r = next(r for r in result["rows"] if r["class"] == "unexpressed")
    assert r["opportunities_corpus"] == sum(max(len(d) - 3, 0) for d in world.docs)
    assert r["opportunities_generations"] == sum(max(len(g) - 3, 0) for g in world.gens)
    assert r["expected_generations"] >= 5 > 0 == r["count_generations"]


def test_examples_and_documents(result: dict[str, Any], world: World) -> None:
    by = {(r["class"], r["pattern"]): r for r in result["rows"]}
    u1 = by[("unexpressed", " ".join(U1))]
    assert u1["examples"] == [] and len(u1["doc_ids"]) == 3
    assert all(" ".join(U1) in world.texts[d] for d in u1["doc_ids"])
    idio = by[("idiosyncratic", "zorblax quintic flarn")]
    assert idio["doc_ids"] == [] and idio["examples"] == ["g10", "g11", "g12"]
    for cls in ("shared", "idiosyncratic"):
        for r in (r for r in result["rows"] if r["class"] == cls):
            assert 1 <= len(r["examples"]) <= 3
            for gid in r["examples"]:
                assert r["pattern"] in " ".join(world.gens[int(gid[1:])])


def test_contingent_row(result: dict[str, Any]) -> None:
    (row,) = [r for r in result["rows"] if r["class"] == "contingent"]
    assert row["kind"] == "trigger" and row["pattern"] == " ".join(T1)
    assert row["continuation"] == "yonder" and row["n_generations"] == 6
    assert row["count_corpus"] == 0 and row["opportunities_corpus"] == 40
    assert len(row["doc_ids"]) == 3 and all(80 <= d < 120 for d in row["doc_ids"])  # T1's docs
    assert len(row["examples"]) == 3 and all(20 <= int(g[1:]) < 26 for g in row["examples"])
    model = json.loads(row["model_top"])
    corpus = json.loads(row["corpus_top"])
    assert model == [{"text": "yonder", "prob": 1.0}]
    assert 1 <= len(corpus) <= 5 and all(c["text"] != "yonder" for c in corpus)
    assert row["divergence"] == pytest.approx(1.0)  # disjoint next-token distributions


def test_rerun_overwrites_and_generations_index_is_queryable(result: dict[str, Any]) -> None:
    out: Path = result["out"]
    gix = open_index(out / "generations_index")
    assert gix.count("zorblax quintic flarn") == 5
    assert not list((out / "patterns").glob(".*"))  # no temp file left behind


def test_rank_follows_keyness(result: dict[str, Any]) -> None:
    for cls in EXPECTED:
        rows = sorted((r for r in result["rows"] if r["class"] == cls), key=lambda r: r["rank"])
        assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
        keys = [r["keyness"] for r in rows]
        assert keys == sorted(keys, reverse=True)


def test_thresholds_move_the_classes(world: World, tmp_path: Path) -> None:
    """Lowering k to 2 admits the near misses S3 and I3; raising e_min drops U1."""
    ix = open_index(build_from_docs(tmp_path, world.texts, tokenizer="words"))
    classify_patterns(tmp_path / "r", world.table, ix, min_generations=2, e_min=100.0, support=4)
    rows = pq.read_table(tmp_path / "r" / "patterns" / "part-00000.parquet").to_pylist()
    found = {(r["class"], r["pattern"]) for r in rows}
    assert ("shared", "s3a s3b s3c s3d") in found
    assert ("idiosyncratic", "glimmerfax trobble snark") in found
    assert not any(c == "unexpressed" for c, _ in found)
    assert ("contingent", "t3a t3b t3c") in found  # support 4 now suffices
