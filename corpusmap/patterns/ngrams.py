"""N-gram sets as row blocks: sequence n-grams, exact joins.

The distinct n-grams of the generations index G (count, generations holding
them) come from ``index.ngram_shards.ngrams`` (``Generations.ngrams``), over any
number of shards.

* ``sequence_ngrams``: the distinct n-grams of short sequences (true continuations).
* ``match_rows``: exact join of two sets of equal-length token rows.

Frequent corpus n-grams come from the index itself (``Index.frequent_ngrams``).

N-grams of one length are kept as 2-D arrays (one row per n-gram), so joins and
de-duplication are a ``np.lexsort`` over rows (exact), never Python loops.

What it leaves out: n-grams across documents (never counted on either side).
"""

from __future__ import annotations

import numpy as np

from corpusmap.tokenizer.batch import TokenBatch


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


def sequence_ngrams(batch: TokenBatch, n: int) -> np.ndarray:
    """Distinct n-grams (rows) of the sequences of a batch."""
    flat, offs = batch.flat, batch.offsets
    if flat.size < n:
        return np.zeros((0, n), dtype=np.int64)
    starts = np.arange(flat.size - n + 1)
    seq = np.searchsorted(offs, starts, side="right") - 1
    ok = starts + n <= offs[seq + 1]
    windows = np.lib.stride_tricks.sliding_window_view(flat, n)[ok]
    return unique_rows(np.ascontiguousarray(windows))
