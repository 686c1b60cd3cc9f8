"""Compiled query kernels over one shard's memory-mapped tokens and suffix array.

Everything here works on the sorted suffix array ``sa`` of a token string
``tokens``. All suffixes that start with a pattern ``q`` form one contiguous
range ``[lo, hi)`` of ``sa``, found by two binary searches (lower and upper
bound), so ``count(q) = hi - lo`` and ``locate`` reads positions ``sa[lo:hi]``.

Narrowing: given the range of suffixes sharing a prefix of length ``d``, the range
of those whose token at depth ``d`` equals ``c`` is a sub-range, found by binary
search on that single token. Next-token distributions use it: within a pattern's
range the following tokens are sorted, so each distinct next token is one search.

The batched hot paths (``count_batch``, ``range_batch``, ``matching_statistics_batch``)
run in ``interleaved_search``: many searches side by side per thread so their cache misses
overlap, starting inside the first token's block of ``sa`` (``prefix_table``) when a
table is passed. Matching statistics there take one search per position: ``ms[i]``
is the longest common prefix of ``q[i:]`` with its neighbours in suffix order.

Separators never match: the corpus has them only between documents and a query
never contains one (queries are checked), so no match runs across documents.
Tokens and suffix-array entries are read through ``layout`` (``key``, ``position``):
queries come in key space, and one source serves every on-disk layout.
Batched entry points take queries concatenated in ``flat`` with boundaries
``offs`` (query k is ``flat[offs[k]:offs[k+1]]``) and run in parallel.
"""

from __future__ import annotations

import numba
import numpy as np

from corpusmap.index import interleaved_search
from corpusmap.index.interleaved_search import NO_TABLE
from corpusmap.index.layout import key, position


@numba.njit(cache=True, inline="always")
def _tok(tokens, pos):  # type: ignore[no-untyped-def]
    """Key of the token at ``pos`` or -1 past the end (a shorter suffix sorts first)."""
    return key(tokens, pos) if pos < tokens.shape[0] else np.int64(-1)


@numba.njit(cache=True)
def _cmp(tokens, pos, q, qs, qe):  # type: ignore[no-untyped-def]
    """-1 if suffix at pos < q, 0 if q is a prefix of it, +1 if greater."""
    n = tokens.shape[0]
    for k in range(qe - qs):
        p = pos + k
        if p >= n:
            return -1
        t = key(tokens, p)
        c = q[qs + k]
        if t < c:
            return -1
        if t > c:
            return 1
    return 0


@numba.njit(cache=True)
def find_range(tokens, sa, q, qs, qe, lo, hi):  # type: ignore[no-untyped-def]
    """The range ``[lo, hi)`` of suffixes starting with ``q[qs:qe]`` within ``[lo, hi)``."""
    a, b = lo, hi
    while a < b:  # lower bound: first suffix >= q
        m = (a + b) >> 1
        if _cmp(tokens, position(sa, tokens, m), q, qs, qe) < 0:
            a = m + 1
        else:
            b = m
    start = a
    b = hi
    while a < b:  # upper bound: first suffix > q (q not a prefix)
        m = (a + b) >> 1
        if _cmp(tokens, position(sa, tokens, m), q, qs, qe) <= 0:
            a = m + 1
        else:
            b = m
    return start, a


@numba.njit(cache=True)
def narrow(tokens, sa, lo, hi, depth, c):  # type: ignore[no-untyped-def]
    """Sub-range of ``[lo, hi)`` (all sharing ``depth`` tokens) whose next token is ``c``."""
    a, b = lo, hi
    while a < b:
        m = (a + b) >> 1
        if _tok(tokens, position(sa, tokens, m) + depth) < c:
            a = m + 1
        else:
            b = m
    start = a
    b = hi
    while a < b:
        m = (a + b) >> 1
        if _tok(tokens, position(sa, tokens, m) + depth) <= c:
            a = m + 1
        else:
            b = m
    return start, a


def count_batch(tokens, sa, flat, offs, out, table=NO_TABLE):  # type: ignore[no-untyped-def]
    """Add each query's occurrence count in this shard to ``out`` (``interleaved_search``)."""
    interleaved_search.count(tokens, sa, table, flat, offs, out)


def range_batch(tokens, sa, flat, offs, lo_out, hi_out, table=NO_TABLE):  # type: ignore[no-untyped-def]
    """Each query's suffix-array range in this shard (``interleaved_search``)."""
    interleaved_search.ranges(tokens, sa, table, flat, offs, lo_out, hi_out)


def matching_statistics_batch(tokens, sa, flat, offs, out, table=NO_TABLE):  # type: ignore[no-untyped-def]
    """``out[i] = max(out[i], longest prefix of the query suffix at i in this shard)``."""
    interleaved_search.matching_statistics(tokens, sa, table, flat, offs, out)


@numba.njit(cache=True)
def continued_range(tokens, sa, q, s, e, sep):  # type: ignore[no-untyped-def]
    """Range of ``q[s:e]`` restricted to occurrences followed by a real token.

    Within the range, occurrences at the very end of the shard (next key -1) sort
    first and those followed by a separator (the largest key) last.
    """
    lo, hi = find_range(tokens, sa, q, s, e, 0, sa.shape[0])
    if lo >= hi:
        return lo, lo
    first, _ = narrow(tokens, sa, lo, hi, e - s, 0)
    slo, _ = narrow(tokens, sa, first, hi, e - s, sep)
    return first, slo


@numba.njit(cache=True)
def longest_continued_suffix(tokens, sa, q, s, e, sep):  # type: ignore[no-untyped-def]
    """Longest L such that ``q[e-L:e]`` occurs followed by a real token (monotone in L)."""
    a, b = 0, e - s  # invariant: length a works (L=0 always does if the shard has tokens)
    while a < b:
        m = (a + b + 1) >> 1
        lo, hi = continued_range(tokens, sa, q, e - m, e, sep)
        if hi > lo:
            a = m
        else:
            b = m - 1
    return a


@numba.njit(cache=True)
def next_token_counts(tokens, sa, lo, hi, depth):  # type: ignore[no-untyped-def]
    """Distinct next tokens at ``depth`` in ``[lo, hi)`` and their counts (sorted run-wise)."""
    toks = []
    counts = []
    a = lo
    while a < hi:
        c = _tok(tokens, position(sa, tokens, a) + depth)
        _, b = narrow(tokens, sa, a, hi, depth, c)
        toks.append(c)
        counts.append(b - a)
        a = b
    return np.array(toks, dtype=np.int64), np.array(counts, dtype=np.int64)
