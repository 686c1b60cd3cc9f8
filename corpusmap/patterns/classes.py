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

from corpusmap.index.index import Index
from corpusmap.patterns.generations_index import Generations
from corpusmap.patterns.ngrams import GenerationRuns, match_rows, sequence_ngrams, unique_rows
from corpusmap.patterns.params import PatternParams
from corpusmap.patterns.stats import g2_test, poisson_p_zero
from corpusmap.tokenizer.batch import TokenBatch

Side = Index | Generations  # each has count(batch) and opportunities(n)

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
    g_lo: np.ndarray  # G suffix-array range of the occurrences shown as examples
    g_hi: np.ndarray
    cls: np.ndarray  # class name per row ('' when none)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def take(self, keep: np.ndarray) -> Block:
        names = ("toks", "count_t", "count_g", "n_gen", "opp_t", "opp_g", "g_lo", "g_hi", "cls")
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
        g_lo=z,
        g_hi=z,
        cls=np.zeros(0, dtype="<U13"),
        extra=extra or {},
    )


def _count_blocks(side: Side, blocks: list[np.ndarray]) -> list[np.ndarray]:
    """Count rows of several blocks (any lengths) on one side in one batched call."""
    if not blocks:
        return []
    counts = side.count(TokenBatch.concat([TokenBatch.from_rows(rows) for rows in blocks]))
    return np.split(counts, np.cumsum([len(rows) for rows in blocks])[:-1])


def generation_ngrams(
    g: Generations, t: Index, runs: GenerationRuns, p: PatternParams
) -> list[Block]:
    """Shared and idiosyncratic n-grams (stage 1)."""
    assert p.n_min is not None and p.n_max is not None
    all_runs = [runs.runs(n, p.min_generations) for n in range(p.n_min, p.n_max + 1)]
    counts = _count_blocks(t, [r.toks for r in all_runs])
    out = []
    for r, ct in zip(all_runs, counts, strict=True):
        m = len(ct)
        out.append(
            Block(
                n=r.n,
                toks=r.toks,
                count_t=ct,
                count_g=r.count,
                n_gen=r.n_generations,
                opp_t=np.full(m, t.opportunities(r.n)),
                opp_g=np.full(m, g.opportunities(r.n)),
                g_lo=r.lo,
                g_hi=r.hi,
                cls=np.where(ct > 0, "shared", "idiosyncratic"),
            )
        )
    return out


def unexpressed_ngrams(
    g: Generations, t: Index, continuations: TokenBatch | None, p: PatternParams
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
        none = np.full(m, -1, dtype=np.int64)
        out.append(
            Block(
                n=n,
                toks=rows[ok],
                count_t=ct[ok],
                count_g=cg[ok],
                n_gen=np.zeros(m, np.int64),
                opp_t=np.full(m, o_t),
                opp_g=np.full(m, o_g),
                g_lo=none,
                g_hi=none,
                cls=np.full(m, "unexpressed"),
            )
        )
    return out


def triggers(g: Generations, t: Index, runs: GenerationRuns, p: PatternParams) -> Block:
    """Contingent triggers (stage 3); ``extra['next']`` holds the model's continuation."""
    assert p.trigger_n is not None
    n = p.trigger_n
    lo_t, hi_t = runs.ranges(n, p.support)
    lo_y, hi_y = runs.ranges(n + 1, p.support)
    if len(lo_t) == 0 or len(lo_y) == 0:
        return _empty(n, "contingent", {"next": np.zeros(0, np.int64)})
    parent = np.searchsorted(lo_t, lo_y, side="right") - 1  # the trigger run holding t·y
    at_end = np.concatenate([[0], np.cumsum(runs.avail == n)])  # occurrences ending a doc
    cont_g = (hi_t - lo_t) - (at_end[hi_t] - at_end[lo_t])
    count_g = hi_y - lo_y
    major = 2 * count_g > cont_g[parent]  # at most one next token per trigger can be > 1/2
    lo_y, hi_y, parent, count_g = lo_y[major], hi_y[major], parent[major], count_g[major]
    n_gen = runs.distinct_generations(lo_y, hi_y)
    ok = n_gen >= p.support
    lo_y, hi_y, parent, count_g, n_gen = lo_y[ok], hi_y[ok], parent[ok], count_g[ok], n_gen[ok]
    ty = runs.rows(lo_y, n + 1)
    tt = np.ascontiguousarray(ty[:, :n])
    cont_t = t.continued_count(TokenBatch.from_rows(tt))
    count_t = t.count(TokenBatch.from_rows(ty))
    opp_g = cont_g[parent]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_t = np.where(cont_t > 0, count_t / np.maximum(cont_t, 1), 1.0)
    _, pval = g2_test(count_g, count_t, opp_g, cont_t)
    keep = (cont_t > 0) & (p_t <= p.eps) & (np.asarray(pval) < p.alpha)
    m = int(keep.sum())
    return Block(
        n=n,
        toks=tt[keep],
        count_t=count_t[keep],
        count_g=count_g[keep],
        n_gen=n_gen[keep],
        opp_t=cont_t[keep],
        opp_g=opp_g[keep],
        g_lo=lo_y[keep],
        g_hi=hi_y[keep],
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
