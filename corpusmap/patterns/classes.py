"""The four class rules over n-grams and triggers, as vectorised filters.

Stages, in the order data flows, each ending in one batched count per side:

1. ``generation_ngrams``: every n-gram (``n_min <= n <= n_max``) held by at least
   ``k`` distinct generations, read off G's suffix array; counted in the corpus.
   Corpus count > 0: **shared**; 0: **idiosyncratic**.
2. ``unexpressed_ngrams``: candidates are every corpus n-gram frequent enough to
   be expected ``>= e_min`` times in the generations (count >= e_min * O_T(n) /
   O_G(n), found exactly by the strided scan) plus the n-grams of the true
   continuations of corpus-sampled prompts; counted in G. Never in G, expected
   ``>= e_min`` and Poisson ``P(0) < alpha``: **unexpressed**.
3. ``triggers``: contexts ``t`` of ``trigger_n`` tokens in G whose most frequent
   next token ``y`` follows more than half of t's occurrences in G, in ``>= s``
   distinct generations. ``t`` must occur (followed by a token) in the corpus too,
   with ``P_T(y | t) <= eps`` and the G² p-value of (y vs other) x (G vs T)
   ``< alpha``: **contingent**.
4. ``close``: an n-gram is dropped when a one-token-longer n-gram of the same
   class has exactly the same counts on both sides (every occurrence of it is
   inside the longer one), so one copied or invented span is one row, not one
   row per window ("closed" n-grams).

Counts are exact occurrences (overlapping, never across documents); the
opportunities of an n-gram are the n-gram positions of its length on that side,
those of a trigger row its occurrences followed by a token.

What it leaves out: n-grams held by fewer than ``k`` generations are never shared
or idiosyncratic (one-offs are not patterns of the model), and triggers of other
lengths than ``trigger_n``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from corpusmap.index.ngram_shards import Grams
from corpusmap.patterns.generations_index import Generations
from corpusmap.patterns.ngrams import match_rows, sequence_ngrams, unique_rows
from corpusmap.patterns.params import PatternParams
from corpusmap.patterns.sides import Side
from corpusmap.patterns.stats import g2_test, poisson_p_zero
from corpusmap.tokenizer.batch import TokenBatch

CLASSES = ("shared", "idiosyncratic", "contingent", "unexpressed")


@dataclass
class Block:
    """Candidate rows of one length: tokens and counts, one entry per row."""

    n: int
    toks: np.ndarray  # (m, n)
    count_t: np.ndarray
    count_g: np.ndarray
    n_gen: np.ndarray
    opp_t: np.ndarray
    opp_g: np.ndarray
    cls: np.ndarray  # class name per row ('' when none)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def take(self, keep: np.ndarray) -> Block:
        names = ("toks", "count_t", "count_g", "n_gen", "opp_t", "opp_g", "cls")
        cols = {k: getattr(self, k)[keep] for k in names}
        return Block(self.n, extra={k: v[keep] for k, v in self.extra.items()}, **cols)


def _empty(n: int, cls: str, extra: dict[str, np.ndarray] | None = None) -> Block:
    z = np.zeros(0, dtype=np.int64)
    return Block(
        n=n,
        toks=np.zeros((0, n), np.int64),
        count_t=z,
        count_g=z,
        n_gen=z,
        opp_t=z,
        opp_g=z,
        cls=np.zeros(0, dtype="<U13"),
        extra=extra or {},
    )


def _count_blocks(side: Side, blocks: list[np.ndarray]) -> list[np.ndarray]:
    """Count rows of several blocks (any lengths) on one side in one batched call."""
    if not blocks:
        return []
    counts = side.count(TokenBatch.concat([TokenBatch.from_rows(rows) for rows in blocks]))
    return np.split(counts, np.cumsum([len(rows) for rows in blocks])[:-1])


def wanted_ngrams(p: PatternParams) -> dict[int, int]:
    """The G n-grams every class needs, read in one pass: length -> least generations.

    n-gram classes: ``n_min..n_max`` held by >= k generations; triggers: ``t·y`` of
    ``trigger_n + 1`` tokens in >= s generations (a length both need takes the
    smaller; each class filters its own).
    """
    assert p.n_min is not None and p.n_max is not None and p.trigger_n is not None
    wants = {n: p.min_generations for n in range(p.n_min, p.n_max + 1)}
    n = p.trigger_n + 1
    wants[n] = min(wants.get(n, p.support), p.support)
    return wants


def _held(grams: dict[int, Grams], n: int, min_docs: int) -> Grams:
    rows, count, docs = grams[n]
    keep = docs >= min_docs
    return rows[keep], count[keep], docs[keep]


def generation_ngrams(
    g: Generations, t: Side, grams: dict[int, Grams], p: PatternParams
) -> list[Block]:
    """Shared and idiosyncratic n-grams (stage 1)."""
    assert p.n_min is not None and p.n_max is not None
    ns = list(range(p.n_min, p.n_max + 1))
    held = [_held(grams, n, p.min_generations) for n in ns]
    counts = _count_blocks(t, [h[0] for h in held])
    out = []
    for n, (rows, count_g, n_gen), ct in zip(ns, held, counts, strict=True):
        m = len(ct)
        out.append(
            Block(
                n=n,
                toks=rows,
                count_t=ct,
                count_g=count_g,
                n_gen=n_gen,
                opp_t=np.full(m, t.opportunities(n)),
                opp_g=np.full(m, g.opportunities(n)),
                cls=np.where(ct > 0, "shared", "idiosyncratic"),
            )
        )
    return out


def unexpressed_ngrams(
    g: Generations, t: Side, continuations: TokenBatch | None, p: PatternParams
) -> list[Block]:
    """Unexpressed n-grams (stage 2)."""
    assert p.n_min is not None and p.n_max is not None
    ns = [n for n in range(p.n_min, p.n_max + 1) if g.opportunities(n) > 0 and t.opportunities(n)]
    c_min = {n: p.e_min * t.opportunities(n) / g.opportunities(n) for n in ns}
    if not ns:
        return []
    cands = t.frequent_ngrams(c_min)
    if continuations is not None:
        for n in ns:
            extra = sequence_ngrams(continuations, n)
            cands[n] = unique_rows(np.concatenate([cands[n], extra]))
    blocks = [cands[n] for n in ns]
    count_t = _count_blocks(t, blocks)
    count_g = _count_blocks(g, blocks)
    out = []
    for n, rows, ct, cg in zip(ns, blocks, count_t, count_g, strict=True):
        o_t, o_g = t.opportunities(n), g.opportunities(n)
        expected = ct / o_t * o_g
        ok = (cg == 0) & (expected >= p.e_min) & (poisson_p_zero(expected) < p.alpha)
        m = int(ok.sum())
        out.append(
            Block(
                n=n,
                toks=rows[ok],
                count_t=ct[ok],
                count_g=cg[ok],
                n_gen=np.zeros(m, np.int64),
                opp_t=np.full(m, o_t),
                opp_g=np.full(m, o_g),
                cls=np.full(m, "unexpressed"),
            )
        )
    return out


def triggers(g: Generations, t: Side, grams: dict[int, Grams], p: PatternParams) -> Block:
    """Contingent triggers (stage 3); ``extra['next']`` holds the model's continuation."""
    assert p.trigger_n is not None
    n = p.trigger_n
    ty, count_g, n_gen = _held(grams, n + 1, p.support)
    if len(ty) == 0:
        return _empty(n, "contingent", {"next": np.zeros(0, np.int64)})
    tt = np.ascontiguousarray(ty[:, :n])
    cont_g = g.continued_count(TokenBatch.from_rows(tt))  # t's occurrences followed by a token
    major = 2 * count_g > cont_g  # at most one next token per trigger can be > 1/2
    ty, tt, count_g, n_gen, cont_g = (
        ty[major],
        tt[major],
        count_g[major],
        n_gen[major],
        cont_g[major],
    )
    cont_t = t.continued_count(TokenBatch.from_rows(tt))
    count_t = t.count(TokenBatch.from_rows(ty))
    with np.errstate(divide="ignore", invalid="ignore"):
        p_t = np.where(cont_t > 0, count_t / np.maximum(cont_t, 1), 1.0)
    _, pval = g2_test(count_g, count_t, cont_g, cont_t)
    keep = (cont_t > 0) & (p_t <= p.eps) & (np.asarray(pval) < p.alpha)
    m = int(keep.sum())
    return Block(
        n=n,
        toks=tt[keep],
        count_t=count_t[keep],
        count_g=count_g[keep],
        n_gen=n_gen[keep],
        opp_t=cont_t[keep],
        opp_g=cont_g[keep],
        cls=np.full(m, "contingent"),
        extra={"next": ty[keep, n]},
    )


def close(blocks: list[Block]) -> list[Block]:
    """Drop n-grams subsumed by a one-longer n-gram with equal counts (stage 4)."""
    by_n = {b.n: b for b in blocks}
    out = []
    for b in blocks:
        longer = by_n.get(b.n + 1)
        drop = np.zeros(len(b.toks), dtype=bool)
        if longer is not None and len(longer.toks) and len(b.toks):
            for part in (longer.toks[:, :-1], longer.toks[:, 1:]):
                at = match_rows(b.toks, np.ascontiguousarray(part))
                hit = at >= 0
                j, i = np.flatnonzero(hit), at[hit]
                same = ((b.cls[i] == longer.cls[j]) & (b.count_g[i] == longer.count_g[j])
                        & (b.count_t[i] == longer.count_t[j]))  # fmt: skip
                drop[i[same]] = True
        out.append(b.take(~drop))
    return out
