"""Compiled helpers for pattern counting over suffix arrays and token sequences.

The n-gram classes never enumerate n-grams in Python. They read them off sorted
suffix arrays: in a suffix array equal n-grams are adjacent, so the distinct
n-grams of a side and their counts are the *runs* of consecutive suffixes whose
common prefix (LCP) is at least ``n``. One pass computing the LCP of neighbouring
suffixes (capped at the longest ``n`` asked for, never running through a
document separator) serves every ``n`` at once; a run is then a stretch where the
LCP stays ``>= n``, found with numpy.

``strided_lcp`` also serves the corpus scan for frequent n-grams: comparing
suffix ``k*s`` with suffix ``(k+1)*s`` only, a pair sharing ``n`` tokens proves a
run spanning both probes, and every run of length ``>= 2s`` contains such a pair.
So all corpus n-grams occurring at least ``2s`` times are found with ``N/s``
comparisons instead of ``N``.

What it leaves out: the binary searches themselves (counting an n-gram, the
range of a context) come from ``corpusmap.index.kernels``.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from corpusmap.index import kernels as K


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
        a = np.int64(sa[k * stride])
        b = np.int64(sa[(k + 1) * stride])
        d = 0
        while d < cap and a + d < n and b + d < n:
            t = tokens[a + d]
            if t != tokens[b + d] or t == sep:
                break
            d += 1
        out[k] = d
    return out


@numba.njit(cache=True, parallel=True)
def available(tokens, positions, cap, sep):  # type: ignore[no-untyped-def]
    """Real tokens (``<= cap``) from each position up to its document's end."""
    out = np.zeros(positions.shape[0], dtype=np.int32)
    n = tokens.shape[0]
    for i in prange(positions.shape[0]):
        p = np.int64(positions[i])
        d = 0
        while d < cap and p + d < n and tokens[p + d] != sep:
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
def continued_count_batch(tokens, sa, flat, offs, sep, out):  # type: ignore[no-untyped-def]
    """Add each query's occurrences that are followed by a real token to ``out``."""
    for k in prange(offs.shape[0] - 1):
        lo, hi = K.continued_range(tokens, sa, flat, offs[k], offs[k + 1], sep)
        out[k] += hi - lo


@numba.njit(cache=True, parallel=True)
def count_in_sequences(flat, offs, pattern):  # type: ignore[no-untyped-def]
    """Overlapping occurrences of ``pattern`` inside each sequence ``flat[offs[k]:offs[k+1]]``."""
    out = np.zeros(offs.shape[0] - 1, dtype=np.int64)
    for k in prange(offs.shape[0] - 1):
        out[k] = K.scan_count(flat, offs[k], offs[k + 1], pattern, 0, pattern.shape[0])
    return out
