"""Many binary searches at once in one thread: matching statistics and counts.

A probe of a suffix-array search reads ``sa[m]`` and then the tokens at ``sa[m]``:
two dependent cache misses (the index is far larger than the caches), and the next
probe depends on their result, so one search waits on memory all the time. Here each
thread runs ``LANES`` independent searches side by side, one probe per lane per round,
in three passes: compute every lane's midpoint and prefetch ``sa[m]``; read ``sa[m]``
and prefetch the tokens to compare; compare and move every lane's bounds. The misses
of all lanes overlap, and a lane whose search ends takes the next job at once.

Matching statistics: ``ms[i]`` is the longest common prefix (LCP) of ``q[i:e]`` with
any suffix, and the suffixes closest to ``q[i:e]`` in sorted order share the most with
it, so one lower-bound search for ``q[i:e]`` gives ``ms[i]`` as the larger LCP with its
two neighbours. Every position is an independent job (no carry from position i-1).
Each lane keeps the LCP of the query with the suffixes just below (``l``) and at
(``r``) its bracket ``[a, b)``; every suffix in between shares ``min(l, r)`` tokens with
the query (they are sorted), so comparisons start there (Manber and Myers). A search
starts in the block of the query's first token (``prefix_table``), with ``l = r = 1``.
A match of the whole rest of the query ends the search early.

Counts: one search per query brackets both ends of its range (equal range): while the
probes miss the range both ends share them; at the first suffix that starts with the
query the lane searches ``[a, m)`` for the lower end and then ``[m + 1, b)`` for the
upper end. A one-token query is read from the table alone.

Results are exact: the same suffix order and token equality as ``kernels``. Work is
split into chunks run in parallel (``prange``), so two threads help one long query.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from corpusmap.index.layout import flat_index, key, position, prefetch

LANES = 32
NO_TABLE = np.zeros(0, dtype=np.uint32)  # no first-token table: searches start from all of sa
MIN_CHUNK = 256  # jobs per parallel chunk, at least
CHUNKS_PER_THREAD = 8  # so a thread slowed down by other work holds up little


@numba.njit(cache=True, inline="always")
def _probe(tokens, p, k, q, s, e):  # type: ignore[no-untyped-def]
    """(LCP of suffix ``p`` and ``q[s:e]`` given ``k`` tokens agree, order): the order is
    -1 if the suffix sorts before ``q[s:e]``, 0 if ``q[s:e]`` is its prefix, else +1."""
    n = tokens.shape[0]
    while s + k < e and p + k < n and key(tokens, p + k) == q[s + k]:
        k += 1
    if s + k == e:
        return k, 0
    if p + k < n and key(tokens, p + k) > q[s + k]:
        return k, 1
    return k, -1


@numba.njit(cache=True, inline="always")
def _start(table, n_sa, t, length):  # type: ignore[no-untyped-def]
    """Initial bracket and known common prefix: the block of first token ``t``."""
    if table.shape[0] == 0 or length == 0:
        return np.int64(0), np.int64(n_sa), np.int64(0)
    if t < 0 or t >= table.shape[0] - 1:  # sorts before or after every suffix
        at = np.int64(0) if t < 0 else np.int64(n_sa)
        return at, at, np.int64(1)
    return np.int64(table[t]), np.int64(table[t + 1]), np.int64(1)


@numba.njit(cache=True)
def _ms_chunk(tokens, sa, table, q, ends, c0, c1, out, nl):  # type: ignore[no-untyped-def]
    n = tokens.shape[0]
    li = np.empty(nl, np.int64)  # position of the lane's job
    la = np.empty(nl, np.int64)
    lb = np.empty(nl, np.int64)
    ll = np.empty(nl, np.int64)
    lr = np.empty(nl, np.int64)
    lm = np.empty(nl, np.int64)
    lp = np.empty(nl, np.int64)
    act = 0
    nxt = c0
    while True:
        while act < nl and nxt < c1:  # fill free lanes with jobs that need a search
            i = nxt
            nxt += 1
            a, b, k = _start(table, sa.shape[0], q[i], ends[i] - i)
            if a >= b:
                continue  # ms[i] = 0: out[i] stays as it is
            if k >= ends[i] - i:
                out[i] = max(out[i], k)
                continue
            li[act], la[act], lb[act], ll[act], lr[act] = i, a, b, k, k
            act += 1
        if act == 0:
            break
        for j in range(act):
            m = (la[j] + lb[j]) >> 1
            lm[j] = m
            prefetch(sa, flat_index(sa, m))
        for j in range(act):
            p = position(sa, tokens, lm[j])
            lp[j] = p
            prefetch(tokens, flat_index(tokens, min(p + min(ll[j], lr[j]), n - 1)))
        j = 0
        while j < act:
            i, e = li[j], ends[li[j]]
            k, c = _probe(tokens, lp[j], min(ll[j], lr[j]), q, i, e)
            if c < 0:
                la[j] = lm[j] + 1
                ll[j] = k
            else:
                lb[j] = lm[j]
                lr[j] = k
            if c == 0 or la[j] >= lb[j]:  # done: a full match, or the bracket closed
                out[i] = max(out[i], max(ll[j], lr[j]))
                act -= 1  # move the last lane here and look at it next
                li[j], la[j], lb[j], ll[j], lr[j] = li[act], la[act], lb[act], ll[act], lr[act]
                lm[j], lp[j] = lm[act], lp[act]
            else:
                j += 1


def _chunks(n_jobs: int) -> np.ndarray:
    n = max(1, min(CHUNKS_PER_THREAD * numba.get_num_threads(), n_jobs // MIN_CHUNK))
    return np.linspace(0, n_jobs, n + 1).astype(np.int64)


@numba.njit(cache=True, parallel=True)
def _ms_run(tokens, sa, table, flat, ends, bounds, out, nl):  # type: ignore[no-untyped-def]
    for c in prange(bounds.shape[0] - 1):
        _ms_chunk(tokens, sa, table, flat, ends, bounds[c], bounds[c + 1], out, nl)


def matching_statistics(tokens, sa, table, flat, offs, out, lanes=LANES):  # type: ignore[no-untyped-def]
    """``out[i] = max(out[i], longest prefix of the query suffix at i in this shard)``."""
    if flat.shape[0] == 0 or sa.shape[0] == 0:
        return
    ends = np.repeat(offs[1:], np.diff(offs)).astype(np.int64)
    bounds = _chunks(flat.shape[0])
    if bounds.shape[0] == 2:  # one chunk: opening a parallel region only waits for a thread
        _ms_chunk(tokens, sa, table, flat, ends, bounds[0], bounds[1], out, lanes)
        return
    old = numba.set_parallel_chunksize(1)  # a free thread takes the next chunk
    try:
        _ms_run(tokens, sa, table, flat, ends, bounds, out, lanes)
    finally:
        numba.set_parallel_chunksize(old)


@numba.njit(cache=True)
def _range_chunk(tokens, sa, table, q, offs, c0, c1, lo_out, hi_out, nl):  # type: ignore[no-untyped-def]
    lk = np.empty(nl, np.int64)  # query of the lane
    lmode = np.empty(nl, np.int64)  # 0: both ends, 1: lower end, 2: upper end
    st = np.empty((8, nl), np.int64)  # a, b, l, r, then the upper end's a, b, l, r
    lm = np.empty(nl, np.int64)
    lp = np.empty(nl, np.int64)
    lo = np.empty(nl, np.int64)
    act = 0
    nxt = c0
    while True:
        while act < nl and nxt < c1:
            kq = nxt
            nxt += 1
            s, e = offs[kq], offs[kq + 1]
            a, b, k = _start(table, sa.shape[0], q[s] if e > s else 0, e - s)
            if a >= b or k >= e - s:  # empty query, absent or single first token
                lo_out[kq], hi_out[kq] = a, b
                continue
            lk[act], lmode[act] = kq, 0
            st[0, act], st[1, act], st[2, act], st[3, act] = a, b, k, k
            act += 1
        if act == 0:
            break
        for j in range(act):
            m = (st[0, j] + st[1, j]) >> 1
            lm[j] = m
            prefetch(sa, flat_index(sa, m))
        for j in range(act):
            p = position(sa, tokens, lm[j])
            lp[j] = p
            prefetch(
                tokens, flat_index(tokens, min(p + min(st[2, j], st[3, j]), tokens.shape[0] - 1))
            )
        j = 0
        while j < act:
            kq, m, mode = lk[j], lm[j], lmode[j]
            k, c = _probe(tokens, lp[j], min(st[2, j], st[3, j]), q, offs[kq], offs[kq + 1])
            if mode == 0 and c == 0:  # m starts with the query: split into the two ends
                st[4, j], st[5, j], st[6, j], st[7, j] = m + 1, st[1, j], k, st[3, j]
                st[1, j], st[3, j] = m, k
                lmode[j] = mode = 1
            elif c < 0 or (mode == 2 and c == 0):
                st[0, j], st[2, j] = m + 1, k
            else:
                st[1, j], st[3, j] = m, k
            if st[0, j] < st[1, j]:
                j += 1
                continue
            if mode == 1:  # lower end found: go on with the upper end
                lo[j] = st[0, j]
                for r in range(4):
                    st[r, j] = st[r + 4, j]
                lmode[j] = 2
                if st[0, j] < st[1, j]:
                    j += 1
                    continue
            lo_out[kq] = lo[j] if mode != 0 else st[0, j]  # no match: where it would be
            hi_out[kq] = st[0, j]
            act -= 1
            lk[j], lmode[j], lm[j], lp[j], lo[j] = lk[act], lmode[act], lm[act], lp[act], lo[act]
            for r in range(8):
                st[r, j] = st[r, act]


@numba.njit(cache=True, parallel=True)
def _range_run(tokens, sa, table, flat, offs, bounds, lo, hi, nl):  # type: ignore[no-untyped-def]
    for c in prange(bounds.shape[0] - 1):
        _range_chunk(tokens, sa, table, flat, offs, bounds[c], bounds[c + 1], lo, hi, nl)


def ranges(tokens, sa, table, flat, offs, lo, hi, lanes=LANES):  # type: ignore[no-untyped-def]
    """Each query's suffix-array range ``[lo, hi)`` (empty: ``lo = hi`` = where it would be)."""
    n_q = offs.shape[0] - 1
    if n_q == 0:
        return
    bounds = _chunks(n_q)
    if bounds.shape[0] == 2:  # one chunk: no parallel region (it costs a scheduler tick)
        _range_chunk(tokens, sa, table, flat, offs, bounds[0], bounds[1], lo, hi, lanes)
        return
    old = numba.set_parallel_chunksize(1)
    try:
        _range_run(tokens, sa, table, flat, offs, bounds, lo, hi, lanes)
    finally:
        numba.set_parallel_chunksize(old)


def count(tokens, sa, table, flat, offs, out, lanes=LANES):  # type: ignore[no-untyped-def]
    """Add each query's occurrence count in this shard to ``out``."""
    lo, hi = np.empty_like(out), np.empty_like(out)
    ranges(tokens, sa, table, flat, offs, lo, hi, lanes)
    out += hi - lo
