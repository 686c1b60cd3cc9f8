"""Next-token distribution (∞-gram): what follows the longest suffix of a context that occurs.

For a context ``q`` each shard reports the longest suffix of ``q`` that occurs
followed by a real token (``longest_continued_suffix``); the shards reaching the
overall longest one contribute the counts of the tokens after it
(``continued_range`` + ``next_token_counts``), summed exactly across shards.

What it leaves out: smoothing or backoff weights (it reports counts at the one
longest context; ``length_used`` says which).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from corpusmap.index import kernels as K
from corpusmap.index.layout import from_keys, to_keys

if TYPE_CHECKING:
    from corpusmap.index.index import Index


def next_token_distribution(ix: Index, q: np.ndarray, limit: int | None) -> dict[str, Any]:
    """``length_used``, ``total`` and the ``distribution`` rows after context ``q``."""
    used, counts = next_token_counts(ix, q)
    return distribution(ix, used, counts, limit)


def next_token_counts(ix: Index, q: np.ndarray) -> tuple[int, dict[int, int]]:
    """The longest continued suffix of ``q`` over ``ix``'s shards and the counts after it."""
    e = len(q)
    keys = [to_keys(s.tokens, q) for s in ix.shards]
    lengths = [
        K.longest_continued_suffix(s.tokens, s.sa, k, 0, e, ix.separator)
        for s, k in zip(ix.shards, keys, strict=True)
    ]
    used = max(lengths) if lengths else 0
    counts: dict[int, int] = {}
    for s, k, length in zip(ix.shards, keys, lengths, strict=True):
        if length != used or s.sa.shape[0] == 0:
            continue
        lo, hi = K.continued_range(s.tokens, s.sa, k, e - used, e, ix.separator)
        toks, cnts = K.next_token_counts(s.tokens, s.sa, lo, hi, used)
        toks = from_keys(s.tokens, toks)
        for t, c in zip(toks.tolist(), cnts.tolist(), strict=True):
            counts[t] = counts.get(t, 0) + c
    return used, counts


def distribution(ix: Any, used: int, counts: dict[int, int], limit: int | None) -> dict[str, Any]:
    """The answer of ``next_token_distribution`` from the merged counts at length ``used``."""
    total = sum(counts.values())
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    texts = ix.tokenizer.token_strings([t for t, _ in rows])
    dist = [
        {"token": t, "text": txt, "count": c, "prob": c / total}
        for (t, c), txt in zip(rows, texts, strict=True)
    ]
    return {"length_used": used, "total": total, "distribution": dist}
