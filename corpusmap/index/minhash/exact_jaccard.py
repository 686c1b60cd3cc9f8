"""Exact Jaccard similarity of two documents' shingle sets (the slow, obvious reference).

Used to double-check MinHash estimates (``near_duplicates(..., exact=True)``) and in
tests. A shingle is a tuple of ``n`` consecutive token ids; a document shorter than
``n`` has one shingle, itself; an empty document has none. This mirrors what
``signature.py`` hashes, without the hashing.

What it leaves out: speed. It is linear in document length per pair and runs in
Python/numpy, so it is for checking a bounded number of pairs, not for search.
"""

from __future__ import annotations

import numpy as np


def shingle_set(tokens: np.ndarray, n: int) -> np.ndarray:
    """The distinct shingles of a document as one opaque (void) value each, sorted."""
    tok = np.ascontiguousarray(tokens, dtype=np.int64)
    if tok.size == 0:
        return np.zeros(0, dtype=np.dtype((np.void, 8 * n)))
    k = min(n, tok.size)
    rows = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(tok, k))
    return np.unique(rows.view(np.dtype((np.void, 8 * k))).reshape(-1))


def set_jaccard(x: np.ndarray, y: np.ndarray) -> float:
    """|x ∩ y| / |x ∪ y| for two ``shingle_set`` results (0 when both are empty)."""
    if x.size == 0 and y.size == 0:
        return 0.0
    if x.dtype != y.dtype:  # shingles of different lengths never match
        return 0.0
    inter = np.intersect1d(x, y, assume_unique=True).size
    return inter / (x.size + y.size - inter)


def exact_jaccard(x: np.ndarray, y: np.ndarray, n: int) -> float:
    """Exact Jaccard similarity of the ``n``-shingle sets of two token-id arrays."""
    return set_jaccard(shingle_set(x, n), shingle_set(y, n))
