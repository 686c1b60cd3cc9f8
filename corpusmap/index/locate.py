"""Where n-grams occur: up to ``limit`` hits per query, as documents and offsets.

``occurrences`` finds each query's suffix-array range shard by shard (one batched
range search per shard) and reads up to ``limit`` entries of it, sorted by position,
as (shard, doc ids, offsets in the document); ``locate_records`` adds each hit's
document metadata. Shards are visited in doc id order, so the first ``limit`` hits
are those of the lowest documents that hold the n-gram in the first shards.

What it leaves out: which ``limit`` hits come back within a shard follows the
suffix-array order (lexicographic by what follows the n-gram), not a random sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from corpusmap.index import kernels as K
from corpusmap.index.layout import positions, to_keys
from corpusmap.tokenizer.batch import TokenBatch

Hits = list[list[tuple[Any, np.ndarray, np.ndarray]]]


def occurrences(shards: list[Any], batch: TokenBatch, limit: int) -> Hits:
    """Per query, up to ``limit`` hits as (shard, doc ids, offsets), shard by shard."""
    flat, offs, lengths = batch.flat, batch.offsets, batch.lengths
    n = len(batch)
    found: Hits = [[] for _ in range(n)]
    taken = np.zeros(n, dtype=np.int64)
    for s in shards:
        lo, hi = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        K.range_batch(s.tokens, s.sa, to_keys(s.tokens, flat), offs, lo, hi)
        for k in np.flatnonzero(hi > lo).tolist():
            take = min(int(hi[k] - lo[k]), limit - int(taken[k]))
            if take > 0 and lengths[k]:
                pos = np.sort(positions(s.sa, s.tokens, int(lo[k]), int(lo[k]) + take))
                found[k].append((s, *s.doc_at(pos)))
                taken[k] += take
    return found


def locate_records(found: Hits) -> list[list[dict[str, Any]]]:
    """Each hit as ``{doc_id, offset, id, source, row, meta}``, by doc_id and offset."""
    res: list[list[dict[str, Any]]] = []
    for hits in found:
        rows = []
        for s, doc_ids, offsets in hits:
            for d, o in zip(doc_ids.tolist(), offsets.tolist(), strict=True):
                rec = s.doc_record(d - s.first_doc_id)
                rows.append({"doc_id": d, "offset": o, "id": rec["id"], "source": rec["source"],
                             "row": rec["row"], "meta": rec["meta"]})  # fmt: skip
        rows.sort(key=lambda h: (h["doc_id"], h["offset"]))
        res.append(rows)
    return res
