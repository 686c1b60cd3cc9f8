"""Shard cuts and the default sharding rule.

``CutPlanner`` (the plan a Ray build makes before writing) is checked against the
rule written out document by document, and against the shards a local build
actually cut; the default rule against its stated shard counts, and a default
build's manifest against what it says.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpusmap.index import sharding
from corpusmap.index.sharding import (
    DEFAULT_SHARD_TOKENS,
    CutPlanner,
    default_parts,
    default_shard_tokens,
    plan_cuts,
)
from tests.conftest import build_from_docs


def _rule(lengths: list[int], soft: int, hard: int) -> list[tuple[int, int]]:
    """The cut rule one document at a time (tokens + separator each)."""
    cuts, first, size = [], 0, 0
    for i, n in enumerate(x + 1 for x in lengths):
        if size and size + n > hard:
            cuts.append((first, i - first))
            first, size = i, 0
        size += n
        if size >= soft:
            cuts.append((first, i + 1 - first))
            first, size = i + 1, 0
    if first < len(lengths):
        cuts.append((first, len(lengths) - first))
    return cuts


@pytest.mark.parametrize("seed", range(40))
def test_planner_fed_in_pieces_follows_the_rule(monkeypatch, seed) -> None:
    rng = np.random.default_rng(seed)
    hard = int(rng.choice([1 << 31, int(rng.integers(5, 400))]))
    monkeypatch.setattr(sharding, "MAX_SHARD_BYTES", hard)  # u8: bytes are tokens
    lengths = rng.integers(0, int(rng.choice([3, 30, 300])), size=int(rng.integers(0, 80)))
    shard_tokens = int(rng.integers(1, 500))
    planner = CutPlanner("u8", shard_tokens)
    cuts = []
    for piece in np.array_split(lengths, int(rng.integers(1, 6))):
        cuts += planner.feed(piece)
    cuts += planner.finish()
    expected = _rule(lengths.tolist(), min(shard_tokens, hard), hard)
    assert cuts == expected == plan_cuts(lengths, "u8", shard_tokens)
    assert sum(n for _, n in cuts) == len(lengths)


def test_planner_cuts_where_a_local_build_does(tmp_path) -> None:
    rng = np.random.default_rng(3)
    docs = [rng.integers(0, 30, size=rng.integers(1, 60)).tolist() for _ in range(120)]
    ix = build_from_docs(tmp_path, docs, vocab=100, shard_tokens=300)
    shards = json.loads((ix / "manifest.json").read_text())["shards"]
    built = [(s["first_doc_id"], s["n_docs"]) for s in shards]
    assert len(built) > 5
    assert built == plan_cuts(np.asarray([len(d) for d in docs]), "u8", 300)


@pytest.mark.parametrize(
    ("tokens", "cores", "on_ray", "n_shards"),
    [
        (128_000_000, 2, False, 5),  # the benchmark's corpus on this machine
        (128_000_000, 2, True, 2),
        (10**9, 32, False, 64),  # 65 parts of 15.4M, rounded up to 15 x 2^20 tokens
        (10**9, 32, True, 32),
        (10**10, 32, False, 65),
        (10**11, 32, False, 373),  # past 2^28 tokens per shard: more shards
        (3_000_000, 8, False, 1),  # below 4M tokens: one shard
        (128_000_000, 1, False, 1),
    ],
)
def test_default_rule_gives_the_stated_shard_counts(tokens, cores, on_ray, n_shards) -> None:
    parts, words = default_parts(cores, on_ray)
    per_shard = default_shard_tokens(tokens, parts)
    assert per_shard % (1 << 20) == 0 and per_shard <= DEFAULT_SHARD_TOKENS
    assert -(-tokens // per_shard) == n_shards
    assert ("2 x cores + 1" in words) == (cores > 1 and not on_ray)


def test_default_build_reports_its_rule(tmp_path, monkeypatch) -> None:
    """A small corpus split by the rule (its threshold lowered): shards as the manifest says."""
    monkeypatch.setattr(sharding, "MIN_SPLIT_TOKENS", 1000)
    rng = np.random.default_rng(4)
    docs = [rng.integers(0, 30, size=rng.integers(1, 60)).tolist() for _ in range(400)]
    ix = build_from_docs(tmp_path, docs, vocab=100, workers=2)
    m = json.loads((ix / "manifest.json").read_text())
    rule = m["sharding"]
    assert rule["cores"] == 2 and rule["parts"] == 5 and "2 x cores + 1" in rule["rule"]
    assert rule["shard_tokens"] == default_shard_tokens(rule["estimated_tokens"], 5)
    assert [(s["first_doc_id"], s["n_docs"]) for s in m["shards"]] == plan_cuts(
        np.asarray([len(d) for d in docs]), "u8", rule["shard_tokens"]
    )
