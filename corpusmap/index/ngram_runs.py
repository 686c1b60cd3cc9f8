"""N-grams read off sorted suffix arrays: runs, frequent n-grams, continued counts.

In a suffix array equal n-grams are adjacent, so the distinct n-grams of an index
and their counts are the *runs* of consecutive suffixes whose common prefix (LCP)
is at least ``n``. One pass computing the LCP of neighbouring suffixes (capped at
the longest ``n`` asked for, never running through a document separator) serves
every ``n`` at once; a run is then a stretch where the LCP stays ``>= n``, found
with numpy (``SuffixRuns``).

``strided_lcp`` also serves the corpus scan for frequent n-grams
(``frequent_ngrams``): comparing suffix ``k*s`` with suffix ``(k+1)*s`` only, a
pair sharing ``n`` tokens proves a run spanning both probes, and every run of
length ``>= 2s`` contains such a pair. So all n-grams occurring at least ``2s``
times are found with ``N/s`` comparisons instead of ``N``. With ``S`` shards an
n-gram reaching ``c`` in total reaches ``c/S`` in some shard, so each shard is
probed for ``ceil(c/S)``; the result may hold n-grams below the threshold, which
callers count exactly and filter.

``SuffixRuns`` reads one shard; ``ngram_shards`` runs these per shard (locally or
as Ray tasks) and merges the shards' answers exactly.

What it leaves out: n-grams across documents (never counted).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numba
import numpy as np
from numba import prange

from corpusmap.errors import CorpusmapError
from corpusmap.index import kernels as K
from corpusmap.index.layout import key, position, positions, positions_at, to_keys
from corpusmap.index.shard import Shard

if TYPE_CHECKING:
    from corpusmap.index.index import Index


@numba.njit(cache=True, parallel=True)
def strided_lcp(tokens, sa, stride, cap, sep):  # type: ignore[no-untyped-def]
    """``out[k]``: tokens shared by suffixes ``sa[k*stride]`` and ``sa[(k+1)*stride]``.

    Capped at ``cap`` and stopping at a separator, so a shared prefix never
    crosses a document boundary.
    """
    m = (sa.shape[0] - 1) // stride if sa.shape[0] > 0 else 0
    out = np.zeros(m, dtype=np.int32)
    n = tokens.shape[0]
    for k in prange(m):
        a = position(sa, tokens, k * stride)
        b = position(sa, tokens, (k + 1) * stride)
        d = 0
        while d < cap and a + d < n and b + d < n:
            t = key(tokens, a + d)
            if t != key(tokens, b + d) or t == sep:
                break
            d += 1
        out[k] = d
    return out


@numba.njit(cache=True, parallel=True)
def available(tokens, sa, cap, sep):  # type: ignore[no-untyped-def]
    """Real tokens (``<= cap``) after each suffix-array entry up to its document's end."""
    out = np.zeros(sa.shape[0], dtype=np.int32)
    n = tokens.shape[0]
    for i in prange(sa.shape[0]):
        p = position(sa, tokens, i)
        d = 0
        while d < cap and p + d < n and key(tokens, p + d) != sep:
            d += 1
        out[i] = d
    return out


@numba.njit(cache=True, parallel=True)
def distinct_in_runs(values, starts, ends):  # type: ignore[no-untyped-def]
    """Number of distinct ``values[a:b]`` for each run ``(a, b)`` (e.g. documents)."""
    out = np.zeros(starts.shape[0], dtype=np.int64)
    for r in prange(starts.shape[0]):
        a, b = starts[r], ends[r]
        if b - a <= 1:
            out[r] = b - a
            continue
        v = np.sort(values[a:b])
        c = 1
        for i in range(1, v.shape[0]):
            if v[i] != v[i - 1]:
                c += 1
        out[r] = c
    return out


@numba.njit(cache=True, parallel=True)
def _continued_count_batch(tokens, sa, flat, offs, sep, out):  # type: ignore[no-untyped-def]
    """Add each query's occurrences that are followed by a real token to ``out``."""
    for k in prange(offs.shape[0] - 1):
        lo, hi = K.continued_range(tokens, sa, flat, offs[k], offs[k + 1], sep)
        out[k] += hi - lo


def continued_count_batch(tokens, sa, flat, offs, sep, out):  # type: ignore[no-untyped-def]
    """``_continued_count_batch`` with the queries in the shard's key space."""
    _continued_count_batch(tokens, sa, to_keys(tokens, flat), offs, sep, out)


def gather(shard: Shard, idx: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` token ids of the suffixes at entries ``idx`` (an ``(m, n)`` block)."""
    tokens = shard.tokens
    pos = positions_at(shard.sa, tokens, np.asarray(idx, dtype=np.int64))
    rows = tokens[pos[:, None] + np.arange(n)]
    if tokens.ndim == 1:
        return np.asarray(rows, dtype=np.int64).reshape(len(pos), n)
    flat = np.ascontiguousarray(rows).view(f"<u{tokens.shape[1]}").astype(np.int64)
    return flat.reshape(len(pos), n)


class SuffixRuns:
    """Runs of one shard's suffix array for every n up to ``cap``.

    A run is addressed by its suffix-array range ``[lo, hi)`` in that shard: ``hi - lo``
    is the n-gram's count there, ``rows(lo, n)`` its tokens, ``distinct_docs(lo, hi)``
    the number of documents holding it (doc ids are the index's global ids).
    """

    def __init__(self, index: Index, cap: int, shard: int = 0) -> None:
        if not 0 <= shard < len(index.shards):
            raise CorpusmapError(f"{index.path}: no shard {shard} ({len(index.shards)} shards)")
        self.shard: Shard = index.shards[shard]
        self.separator = index.separator
        self.doc_lengths = self.shard.docs.column("length").to_numpy().astype(np.int64)
        self.first_doc_id = self.shard.first_doc_id
        self.cap = cap

    @property
    def size(self) -> int:
        return int(self.shard.sa.shape[0])

    @cached_property
    def lcp(self) -> np.ndarray:
        return strided_lcp(self.shard.tokens, self.shard.sa, 1, self.cap, self.separator)

    @cached_property
    def avail(self) -> np.ndarray:
        """Real tokens (capped) after each suffix-array entry, up to its document's end."""
        return available(self.shard.tokens, self.shard.sa, self.cap, self.separator)

    @cached_property
    def sa_positions(self) -> np.ndarray:
        return positions(self.shard.sa, self.shard.tokens, 0, self.size)

    @cached_property
    def sa_docs(self) -> np.ndarray:
        """Document id of each suffix-array entry (int32)."""
        # each document's tokens and one separator (after it in our format, before it in
        # infini-gram's): either way every real token maps to its document
        lengths = self.doc_lengths + 1
        ids = np.arange(self.first_doc_id, self.first_doc_id + len(lengths), dtype=np.int32)
        of_pos = np.repeat(ids, lengths)
        sa = self.shard.sa
        return of_pos[sa if sa.ndim == 1 and self.shard.tokens.ndim == 1 else self.sa_positions]

    def ranges(self, n: int, min_count: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``[lo, hi)`` of every distinct n-gram occurring at least ``min_count`` times."""
        if self.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        lo = np.flatnonzero(np.concatenate([[True], self.lcp < n]))
        hi = np.append(lo[1:], self.size)
        ok = (self.avail[lo] >= n) & (hi - lo >= min_count)
        return lo[ok].astype(np.int64), hi[ok].astype(np.int64)

    def rows(self, lo: np.ndarray, n: int) -> np.ndarray:
        """The first ``n`` tokens of the suffixes at entries ``lo`` (an ``(m, n)`` block)."""
        return gather(self.shard, lo, n)

    def distinct_docs(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Number of distinct documents in each range."""
        return distinct_in_runs(self.sa_docs, lo, hi)

    def docs_of(self, lo: int, hi: int, limit: int) -> list[int]:
        """Up to ``limit`` distinct documents of one range, smallest first."""
        return np.unique(self.sa_docs[lo:hi])[:limit].astype(np.int64).tolist()


@numba.njit(cache=True, inline="always")
def _bucket(tokens, p, n, mask):  # type: ignore[no-untyped-def]
    h = np.uint64(0x9E3779B97F4A7C15)
    for i in range(n):
        h = (h ^ np.uint64(key(tokens, p + i))) * np.uint64(0x100000001B3)
        h ^= h >> np.uint64(29)
    h = (h ^ (h >> np.uint64(31))) * np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    return np.int64(h & np.uint64(mask))


@numba.njit(cache=True, parallel=True)
def run_buckets(tokens, sa, lo, n, mask):  # type: ignore[no-untyped-def]
    """A hash of the n-gram at each suffix-array entry ``lo[r]``, ``& mask`` (a bucket).

    The same n-gram gets the same bucket in every shard of an index (the hash reads
    token keys only), so per-bucket totals summed over shards bound each n-gram's
    total from above (``ngram_shards.ngrams``).
    """
    out = np.zeros(lo.shape[0], dtype=np.int64)
    for r in prange(lo.shape[0]):
        out[r] = _bucket(tokens, position(sa, tokens, lo[r]), n, mask)
    return out


@numba.njit(cache=True)
def _saturating_add(buckets, weights, size):  # type: ignore[no-untyped-def]
    acc = np.zeros(size, dtype=np.uint8)
    for r in range(buckets.shape[0]):
        b = buckets[r]
        acc[b] = min(255, np.int64(acc[b]) + weights[r])
    return acc


def bucket_totals(tokens, sa, lo, hi, n, mask):  # type: ignore[no-untyped-def]
    """Occurrences of the runs ``[lo, hi)`` added up per bucket, capped at 255 (uint8)."""
    return _saturating_add(run_buckets(tokens, sa, lo, n, mask), hi - lo, mask + 1)
