"""N-gram enumeration from suffix arrays and token sequences, all vectorised.

* ``GenerationRuns``: the distinct n-grams of the generations index G, one per
  run of its suffix array (see ``kernels``), with their count, the number of
  distinct generations holding them and their suffix-array range (for examples).
* ``frequent_corpus_ngrams``: every corpus n-gram occurring at least ``c_min(n)``
  times, exactly, by the strided probe of ``kernels.strided_lcp``. With ``S``
  shards an n-gram reaching ``c`` in total reaches ``c/S`` in some shard, so each
  shard is probed for ``ceil(c/S)``; the candidates are then counted exactly over
  all shards by the caller (one batched call).
* ``sequence_ngrams``: the distinct n-grams of short sequences (true continuations).
* ``match_rows``: exact join of two sets of equal-length token rows.

N-grams of one length are kept as 2-D arrays (one row per n-gram), so joins and
de-duplication are a ``np.lexsort`` over rows (exact), never Python loops.

What it leaves out: n-grams across documents (never counted on either side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from corpusmap.index.index import Index
from corpusmap.patterns import kernels as CK
from corpusmap.patterns.generations_index import Generations


def gather(tokens: np.ndarray, positions: np.ndarray, n: int) -> np.ndarray:
    """Rows ``tokens[p : p + n]`` for each position (an ``(m, n)`` int64 array)."""
    pos = np.asarray(positions, dtype=np.int64)
    return np.asarray(tokens[pos[:, None] + np.arange(n)], dtype=np.int64).reshape(len(pos), n)


def flat_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An ``(m, n)`` block as flat queries and boundaries for the count kernels."""
    m, n = rows.shape
    return rows.reshape(-1).astype(np.int64), (np.arange(m + 1) * n).astype(np.int64)


def _row_groups(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sort order, group id per sorted row): equal rows get equal ids (exact, lexsort)."""
    order = np.lexsort(rows.T[::-1]) if rows.shape[1] else np.arange(len(rows))
    s = rows[order]
    new = np.any(s[1:] != s[:-1], axis=1) if len(s) else np.zeros(0, dtype=bool)
    return order, np.concatenate([[0], np.cumsum(new)]).astype(np.int64)


def unique_rows(rows: np.ndarray) -> np.ndarray:
    """The distinct rows of an ``(m, n)`` array, in lexicographic order."""
    if len(rows) == 0:
        return rows
    order, gid = _row_groups(rows)
    first = np.concatenate([[True], gid[1:] != gid[:-1]])
    return rows[order][first]


def match_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each row of ``b``, the index of the equal row of ``a`` (rows distinct), or -1."""
    if len(a) == 0 or len(b) == 0:
        return np.full(len(b), -1, dtype=np.int64)
    order, gid = _row_groups(np.concatenate([a, b]))
    ids = np.empty(len(order), dtype=np.int64)
    ids[order] = gid
    where = np.full(int(gid[-1]) + 1, -1, dtype=np.int64)
    where[ids[: len(a)]] = np.arange(len(a))
    return where[ids[len(a) :]]


@dataclass
class Runs:
    """Distinct n-grams of one length in G: tokens and suffix-array ranges ``[lo, hi)``."""

    n: int
    toks: np.ndarray  # (m, n)
    lo: np.ndarray
    hi: np.ndarray
    n_generations: np.ndarray

    @property
    def count(self) -> np.ndarray:
        return self.hi - self.lo


class GenerationRuns:
    """Runs of G's suffix array for every n up to ``cap`` (one LCP pass serves all n)."""

    def __init__(self, g: Generations, cap: int) -> None:
        self.g = g
        self.cap = cap

    @cached_property
    def lcp(self) -> np.ndarray:
        s = self.g.shard
        return CK.strided_lcp(s.tokens, s.sa, 1, self.cap, self.g.index.separator)

    @cached_property
    def avail(self) -> np.ndarray:
        s = self.g.shard
        return CK.available(s.tokens, s.sa, self.cap, self.g.index.separator)

    def ranges(self, n: int, min_count: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``[lo, hi)`` of every distinct n-gram occurring at least ``min_count`` times."""
        size = self.g.shard.sa.shape[0]
        if size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        lo = np.flatnonzero(np.concatenate([[True], self.lcp < n]))
        hi = np.append(lo[1:], size)
        ok = (self.avail[lo] >= n) & (hi - lo >= min_count)
        return lo[ok].astype(np.int64), hi[ok].astype(np.int64)

    def runs(self, n: int, min_generations: int = 1) -> Runs:
        """Distinct n-grams held by at least ``min_generations`` distinct generations."""
        lo, hi = self.ranges(n, min_generations)
        ngen = CK.distinct_in_runs(self.g.sa_docs, lo, hi)
        keep = ngen >= min_generations
        lo, hi, ngen = lo[keep], hi[keep], ngen[keep]
        s = self.g.shard
        toks = gather(s.tokens, s.sa[lo].astype(np.int64), n)
        return Runs(n, toks, lo, hi, ngen)

    def docs_of(self, lo: int, hi: int, limit: int) -> list[int]:
        """Up to ``limit`` distinct G documents of one suffix-array range, smallest first."""
        return np.unique(self.g.sa_docs[lo:hi])[:limit].astype(np.int64).tolist()


def frequent_corpus_ngrams(ix: Index, c_min: dict[int, float]) -> dict[int, np.ndarray]:
    """Every corpus n-gram with at least ``c_min[n]`` occurrences (plus a few below; exact).

    The result may hold n-grams below the threshold (the probe over-approximates);
    callers count candidates exactly and filter.
    """
    cap = max(c_min)
    shards = [s for s in ix.shards if s.sa.shape[0]]
    found: dict[int, list[np.ndarray]] = {n: [] for n in c_min}
    for s in shards:
        c_eff = {n: max(1, math.ceil(c / max(len(shards), 1))) for n, c in c_min.items()}
        stride = max(1, min(c_eff.values()) // 2)
        lcp = CK.strided_lcp(s.tokens, s.sa, stride, cap, ix.separator)
        avail: np.ndarray | None = None
        for n in c_min:
            if c_eff[n] <= 1:  # every distinct n-gram qualifies (stride is 1 here)
                if avail is None:
                    avail = CK.available(s.tokens, s.sa, cap, ix.separator)
                idx = np.flatnonzero(np.concatenate([[True], lcp < n]))
                idx = idx[avail[idx] >= n]
            else:  # a run of hits is one n-gram spanning those probes
                hit = lcp >= n
                first = hit & ~np.concatenate([[False], hit[:-1]])
                idx = np.flatnonzero(first) * stride
            found[n].append(gather(s.tokens, s.sa[idx].astype(np.int64), n))
    return {
        n: unique_rows(np.concatenate(blocks)) if blocks else np.zeros((0, n), np.int64)
        for n, blocks in found.items()
    }


def sequence_ngrams(flat: np.ndarray, offs: np.ndarray, n: int) -> np.ndarray:
    """Distinct n-grams (rows) of sequences given flat with boundaries ``offs``."""
    flat = np.asarray(flat, dtype=np.int64)
    if flat.size < n:
        return np.zeros((0, n), dtype=np.int64)
    starts = np.arange(flat.size - n + 1)
    seq = np.searchsorted(offs, starts, side="right") - 1
    ok = starts + n <= offs[seq + 1]
    windows = np.lib.stride_tricks.sliding_window_view(flat, n)[ok]
    return unique_rows(np.ascontiguousarray(windows))
