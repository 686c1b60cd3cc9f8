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

import numpy as np

from corpusmap.index.index import Index
from corpusmap.tokenizer.batch import TokenBatch


def held_out_matching_statistics(
    index: Index, seqs: TokenBatch, exclude_doc_ids: list[int]
) -> np.ndarray:
    """Matching statistics of each sequence against the corpus minus one document.

    Returns one value per token of ``seqs.flat`` (``seqs.split`` cuts it per sequence).
    """
    hi = np.asarray(index.matching_statistics(seqs), dtype=np.int64)
    if hi.size == 0:
        return hi
    seq_of = seqs.item_of_token
    uniq, doc_index = np.unique(np.asarray(exclude_doc_ids, dtype=np.int64), return_inverse=True)
    docs = index.documents_tokens(uniq)
    lo = np.zeros_like(hi)
    while True:
        active = np.flatnonzero(lo < hi)
        if active.size == 0:
            break
        mid = (lo[active] + hi[active] + 1) // 2
        queries = seqs.spans(active, mid)  # q[i : i + mid] for each active position i
        total = index.count(queries)
        own = queries.count_each_in(docs, doc_index[seq_of[active]])
        ok = total - own > 0
        lo[active[ok]] = mid[ok]
        hi[active[~ok]] = mid[~ok] - 1
    return lo
