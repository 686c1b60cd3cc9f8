"""Matching statistics with one document left out: scoring text as if held out.

The human baseline scores the true continuation of a corpus-sampled prompt the
way generations are scored. Against the full corpus it would trivially match
itself, so each sequence is scored against the corpus *without its source
document*: ``ms'[i]`` is the largest L such that ``q[i:i+L]`` occurs somewhere
other than that document, i.e. ``count(q[i:i+L]) - count_in_doc(q[i:i+L]) > 0``.
That holds for all shorter L too, so ``ms'[i]`` is found by a binary search on L
in ``[0, ms[i]]``, run for all positions at once: each round is one batched
corpus count plus a scan of the (short) source document. Copies of the document
elsewhere in the corpus still count: that text is genuinely in the training data.
"""

from __future__ import annotations

import numba
import numpy as np

from corpusmap.index.index import Index
from corpusmap.index.kernels import scan_count


@numba.njit(cache=True, parallel=True)
def _count_in_docs(doc_flat, doc_offs, doc_of_query, q_flat, q_offs):  # type: ignore[no-untyped-def]
    """Occurrences of each query inside its own document (naive scan)."""
    n = q_offs.shape[0] - 1
    out = np.zeros(n, dtype=np.int64)
    for k in numba.prange(n):
        d = doc_of_query[k]
        out[k] = scan_count(
            doc_flat, doc_offs[d], doc_offs[d + 1], q_flat, q_offs[k], q_offs[k + 1]
        )
    return out


def held_out_matching_statistics(
    index: Index, seqs: list[np.ndarray], exclude_doc_ids: list[int]
) -> list[np.ndarray]:
    """Matching statistics of each sequence against the corpus minus one document."""
    if not seqs:
        return []
    upper = index.matching_statistics(seqs)
    hi = np.concatenate(upper).astype(np.int64) if upper else np.zeros(0, np.int64)  # type: ignore[arg-type]
    seq_of = np.repeat(np.arange(len(seqs)), [len(s) for s in seqs])
    start = np.concatenate([np.arange(len(s)) for s in seqs]) if hi.size else hi
    flat = np.concatenate(seqs).astype(np.int64)
    base = np.concatenate([[0], np.cumsum([len(s) for s in seqs])[:-1]]).astype(np.int64)
    uniq, doc_index = np.unique(np.asarray(exclude_doc_ids, dtype=np.int64), return_inverse=True)
    docs = [index.document_tokens(int(d)) for d in uniq]
    doc_offs = np.concatenate([[0], np.cumsum([len(d) for d in docs])]).astype(np.int64)
    doc_flat = np.concatenate(docs).astype(np.int64) if docs else np.zeros(0, np.int64)
    lo = np.zeros_like(hi)
    while True:
        active = np.flatnonzero(lo < hi)
        if active.size == 0:
            break
        mid = (lo[active] + hi[active] + 1) // 2
        begin = base[seq_of[active]] + start[active]
        queries = [flat[b : b + m] for b, m in zip(begin.tolist(), mid.tolist(), strict=True)]
        total = np.asarray(index.count(queries), dtype=np.int64)
        q_offs = np.concatenate([[0], np.cumsum(mid)]).astype(np.int64)
        own = _count_in_docs(
            doc_flat, doc_offs, doc_index[seq_of[active]], np.concatenate(queries), q_offs
        )
        ok = total - own > 0
        lo[active[ok]] = mid[ok]
        hi[active[~ok]] = mid[~ok] - 1
    return np.split(lo, np.cumsum([len(s) for s in seqs])[:-1])
