"""Query arguments to one ``TokenBatch``: one item or a batch, text or ids.

A string is tokenized with the index's own tokenizer; a list/array of ints is one
token-id query; a list of those is a batch; a ``TokenBatch`` passes through. Ids the
corpus cannot hold (negative, or the reserved separator/unknown ids and above)
become ``unknown``, which matches nothing: this is the one place that mapping
happens (``TokenBatch.clipped``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError
from corpusmap.tokenizer.batch import TokenBatch, encode_texts

Query = str | Sequence[int] | np.ndarray
Queries = Query | Sequence[Query] | TokenBatch


def to_batch(q: Any, tokenizer: Any, unknown: int) -> tuple[TokenBatch, bool]:
    """(the queries as a clipped batch, whether one single item was given)."""
    if isinstance(q, TokenBatch):
        return q.clipped(unknown, unknown), False
    if isinstance(q, list | tuple) and q and all(type(x) is list for x in q):
        return TokenBatch.from_items(q).clipped(unknown, unknown), False  # no per-item work
    if isinstance(q, str):
        return encode_texts(tokenizer, [q]).clipped(unknown, unknown), True
    if isinstance(q, np.ndarray):
        if q.ndim > 2:
            raise CorpusmapError("a token-id query must be a flat list of integers")
        single = q.ndim == 1
        return TokenBatch.from_items([q] if single else list(q)).clipped(unknown, unknown), single
    seq = list(q)
    if seq and all(isinstance(x, int | np.integer) for x in seq):
        return TokenBatch.from_items([seq]).clipped(unknown, unknown), True
    if all(isinstance(x, str) for x in seq):
        return encode_texts(tokenizer, seq).clipped(unknown, unknown), False
    items = [tokenizer.encode(x) if isinstance(x, str) else np.asarray(x) for x in seq]
    if any(x.ndim != 1 for x in items):
        raise CorpusmapError("a token-id query must be a flat list of integers")
    return TokenBatch.from_items(items).clipped(unknown, unknown), False
