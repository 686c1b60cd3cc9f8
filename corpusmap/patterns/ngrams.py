"""N-gram sets as row blocks: runs of the generations, sequence n-grams, exact joins.

* ``GenerationRuns``: the distinct n-grams of the generations index G, one per
  run of its suffix array (``Index.suffix_runs``), with their count, the number of
  distinct generations holding them and their suffix-array range (for examples).
* ``sequence_ngrams``: the distinct n-grams of short sequences (true continuations).
* ``match_rows``: exact join of two sets of equal-length token rows.

Frequent corpus n-grams come from the index itself (``Index.frequent_ngrams``).

N-grams of one length are kept as 2-D arrays (one row per n-gram), so joins and
de-duplication are a ``np.lexsort`` over rows (exact), never Python loops.

What it leaves out: n-grams across documents (never counted on either side).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpusmap.patterns.generations_index import Generations
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
        self.suffixes = g.index.suffix_runs(cap)

    @property
    def avail(self) -> np.ndarray:
        """Real tokens (capped) after each suffix-array entry, up to its document's end."""
        return self.suffixes.avail

    def ranges(self, n: int, min_count: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``[lo, hi)`` of every distinct n-gram occurring at least ``min_count`` times."""
        return self.suffixes.ranges(n, min_count)

    def runs(self, n: int, min_generations: int = 1) -> Runs:
        """Distinct n-grams held by at least ``min_generations`` distinct generations."""
        lo, hi = self.ranges(n, min_generations)
        ngen = self.suffixes.distinct_docs(lo, hi)
        keep = ngen >= min_generations
        lo, hi, ngen = lo[keep], hi[keep], ngen[keep]
        return Runs(n, self.suffixes.rows(lo, n), lo, hi, ngen)

    def rows(self, lo: np.ndarray, n: int) -> np.ndarray:
        """The n-grams starting the ranges ``lo`` (an ``(m, n)`` block)."""
        return self.suffixes.rows(lo, n)

    def distinct_generations(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return self.suffixes.distinct_docs(lo, hi)

    def docs_of(self, lo: int, hi: int, limit: int) -> list[int]:
        """Up to ``limit`` distinct G documents of one suffix-array range, smallest first."""
        return self.suffixes.docs_of(lo, hi, limit)


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
