"""A planted world: a random-word corpus and generation dump with each class put in on purpose.

The corpus is 400 documents of 40 words drawn uniformly from 5,000 (``w0``..),
the generations 200 outputs of 30 such words, so no n-gram of 3+ words recurs
by chance. Into them go (``name: where`` — what the default thresholds make of it):

* ``S1`` (8 words): corpus doc 0, 4 generations — shared; closed n-grams keep the
  three 6-word windows (every shorter window has the same counts as one of them);
* ``S2`` (4 words): corpus docs 1-2, 3 generations — shared (the 4-gram);
* ``S3`` (4 words): corpus doc 3, 2 generations — nothing (fewer than k = 3);
* ``I1`` (3 words no corpus has): 5 generations — idiosyncratic;
* ``I2`` (5 corpus words in a new order): 3 generations — idiosyncratic;
* ``I3`` (3 new words): 2 generations — nothing (fewer than k);
* ``U1`` (4 words): 60 corpus docs, no generation — unexpressed (expected ~19);
* ``U2`` (4 words): 10 corpus docs, no generation — nothing (expected ~3 < 5);
* ``T1`` (3 words): 40 corpus docs, each followed by a random word; 6 generations,
  always followed by ``yonder`` — contingent (support 6 >= 5, P_corpus = 0). The
  trigger itself recurs in both, so it is also shared, and ``T1 yonder`` never
  occurs in the corpus, so it is idiosyncratic;
* ``T2`` (3 words) + ``x2``: 30 corpus docs, 6 generations — not contingent (the
  corpus continues the same way); ``T2 x2`` is shared;
* ``T3`` (3 words): 20 corpus docs then a random word; 4 generations followed by
  ``yon3`` — not contingent (support 4 < 5); ``T3`` shared, ``T3 yon3`` idiosyncratic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

VOCAB = [f"w{i}" for i in range(5000)]
S1 = [f"s1{c}" for c in "abcdefgh"]
S2 = [f"s2{c}" for c in "abcd"]
S3 = [f"s3{c}" for c in "abcd"]
I1 = ["zorblax", "quintic", "flarn"]
I2 = ["w11", "w2222", "w333", "w4444", "w55"]
I3 = ["glimmerfax", "trobble", "snark"]
U1 = [f"u1{c}" for c in "abcd"]
U2 = [f"u2{c}" for c in "abcd"]
T1 = ["t1a", "t1b", "t1c"]
T2 = ["t2a", "t2b", "t2c"]
T3 = ["t3a", "t3b", "t3c"]


def phrase(words: list[str]) -> str:
    return " ".join(words)


EXPECTED = {
    "shared": {phrase(S1[i : i + 6]) for i in range(3)}
    | {phrase(S2), phrase(T1), phrase([*T2, "x2"]), phrase(T3)},
    "idiosyncratic": {phrase(I1), phrase(I2), phrase([*T1, "yonder"]), phrase([*T3, "yon3"])},
    "unexpressed": {phrase(U1)},
    "contingent": {phrase(T1)},
}


@dataclass
class World:
    docs: list[list[str]]
    gens: list[list[str]]

    @property
    def table(self) -> pa.Table:
        n = len(self.gens)
        return pa.table({
            "gen_id": [f"g{i}" for i in range(n)], "prompt_id": [f"p{i}" for i in range(n)],
            "prompt": [""] * n, "output": [" ".join(g) for g in self.gens],
        })  # fmt: skip

    @property
    def texts(self) -> list[str]:
        return [" ".join(d) for d in self.docs]


def _insert(rng: np.random.Generator, words: list[str], plant: list[str]) -> list[str]:
    at = int(rng.integers(0, len(words) + 1))
    return words[:at] + plant + words[at:]


def make_world(seed: int = 0) -> World:
    rng = np.random.default_rng(seed)

    def rand(k: int) -> list[str]:
        return [VOCAB[i] for i in rng.integers(0, len(VOCAB), k)]

    docs = [rand(40) for _ in range(400)]
    corpus_plants: list[tuple[range, Callable[[], list[str]]]] = [
        (range(0, 1), lambda: S1), (range(1, 3), lambda: S2), (range(3, 4), lambda: S3),
        (range(10, 70), lambda: U1), (range(70, 80), lambda: U2),
        (range(80, 120), lambda: [*T1, *rand(1)]), (range(120, 150), lambda: [*T2, "x2"]),
        (range(150, 170), lambda: [*T3, *rand(1)]),
    ]  # fmt: skip
    for docs_range, make in corpus_plants:
        for d in docs_range:
            docs[d] = _insert(rng, docs[d], make())
    gens = [rand(30) for _ in range(200)]
    gen_plants = [
        (range(0, 4), S1), (range(4, 7), S2), (range(7, 9), S3), (range(10, 15), I1),
        (range(15, 18), I2), (range(18, 20), I3), (range(20, 26), [*T1, "yonder"]),
        (range(26, 32), [*T2, "x2"]), (range(32, 36), [*T3, "yon3"]),
    ]  # fmt: skip
    for gens_range, plant in gen_plants:
        for k in gens_range:
            gens[k] = _insert(rng, gens[k], plant)
    return World(docs, gens)


def naive_count(seqs: list[list[str]], gram: list[str]) -> tuple[int, int]:
    """(occurrences, sequences holding it) by a plain scan."""
    n, total, holders = len(gram), 0, 0
    for s in seqs:
        c = sum(1 for i in range(len(s) - n + 1) if s[i : i + n] == gram)
        total += c
        holders += c > 0
    return total, holders


def ngram_counts(seqs: list[list], n: int) -> tuple[Counter, Counter]:
    """Occurrences and holding sequences of every n-gram, by a plain scan."""
    count: Counter = Counter()
    holders: Counter = Counter()
    for s in seqs:
        here = [tuple(s[i : i + n]) for i in range(len(s) - n + 1)]
        count.update(here)
        holders.update(set(here))
    return count, holders


def naive_classes(docs: list[list], gens: list[list], ns: range, k: int) -> dict[str, set]:
    """Shared / idiosyncratic closed n-grams by plain scans: the obvious reference."""
    members: dict[tuple, tuple[str, int, int]] = {}
    corpus = [ngram_counts(docs, n)[0] for n in ns]
    for n, in_corpus in zip(ns, corpus, strict=True):
        count, holders = ngram_counts(gens, n)
        for t in count:
            if holders[t] >= k:
                cls = "shared" if in_corpus[t] else "idiosyncratic"
                members[t] = (cls, count[t], in_corpus[t])
    closed = {t for t in members
              if not any(members.get(y) == members[t] for y in members
                         if len(y) == len(t) + 1 and (y[:-1] == t or y[1:] == t))}  # fmt: skip
    return {c: {t for t in closed if members[t][0] == c} for c in ("shared", "idiosyncratic")}
