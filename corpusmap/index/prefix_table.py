"""First-token range table of a shard: where each token's suffixes lie in the suffix array.

The suffix array is sorted, so all suffixes starting with token ``t`` form one block,
and the blocks follow each other in token order. With ``count[t]`` the number of
times ``t`` occurs in the shard (separators left out, as they are left out of the
suffix array), the block of ``t`` is ``[table[t], table[t + 1])`` where ``table`` is
the running sum of the counts: a histogram of the tokens gives it in one pass, no
searching needed. Searches then start inside the block of the query's first token
(one lookup instead of the ~20 widest binary-search probes), a one-token query is
answered by the table alone, and a token absent from the shard costs nothing.

The table is built on first use and kept on the ``Shard`` object (memory only,
4 bytes per vocabulary entry). It is left out (an empty array: searches then start
from the whole suffix array) for vocabularies above 2^24 ids, for suffix arrays of
2^32 entries or more, and whenever its total disagrees with the suffix array's size.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from corpusmap.index.interleaved_search import NO_TABLE
from corpusmap.index.shard import Shard

MAX_VOCAB = 1 << 24
_ATTR = "_first_token_table"


@numba.njit(cache=True)
def _max_token(tokens, sep):  # type: ignore[no-untyped-def]
    """Largest id in ``tokens`` other than ``sep`` (-1 when there is none)."""
    best = np.int64(-1)
    for x in tokens:
        t = np.int64(x)
        if t != sep and t > best:
            best = t
    return best


@numba.njit(cache=True, parallel=True)
def _cumulative_counts(tokens, sep, size, parts):  # type: ignore[no-untyped-def]
    """``out[t]`` = number of non-separator tokens below ``t`` (``size + 1`` entries)."""
    counts = np.zeros((parts, size + 1), dtype=np.int64)  # one histogram per part
    n = tokens.shape[0]
    for c in prange(parts):
        row = counts[c]
        for x in tokens[n * c // parts : n * (c + 1) // parts]:
            t = np.int64(x)
            if t != sep and t < size:
                row[t + 1] += 1
    out = np.zeros(size + 1, dtype=np.int64)
    for t in range(size):
        out[t + 1] = out[t]
        for c in range(parts):
            out[t + 1] += counts[c, t + 1]
    return out


def build_table(tokens: np.ndarray, n_suffixes: int, sep: int) -> np.ndarray:
    """The table for one shard's tokens, or ``NO_TABLE`` where it does not apply."""
    if tokens.size == 0 or n_suffixes == 0 or n_suffixes >= 1 << 32:
        return NO_TABLE
    if tokens.dtype.itemsize <= 2:  # every id fits: no pass needed to find the largest
        size = int(np.iinfo(tokens.dtype).max) + 1
    else:
        size = int(_max_token(tokens, np.int64(sep))) + 1
    if size <= 0 or size > MAX_VOCAB:
        return NO_TABLE
    parts = numba.get_num_threads() if size <= 1 << 17 and tokens.size >= 1 << 20 else 1
    counts = _cumulative_counts(tokens, np.int64(sep), np.int64(size), np.int64(parts))
    if int(counts[-1]) != n_suffixes:  # not the layout we expect: search without a table
        return NO_TABLE
    return counts.astype(np.uint32)


def first_token_table(shard: Shard, sep: int) -> np.ndarray:
    """The shard's table, built on first use and cached on the shard object.

    A shard of another layout (``index/foreign``) brings its own ``first_token_table``.
    """
    table = shard.__dict__.get(_ATTR)
    if table is None:
        own = getattr(shard, "first_token_table", None)
        table = own() if own is not None else build_table(shard.tokens, int(shard.sa.shape[0]), sep)
        shard.__dict__[_ATTR] = table
    return table
