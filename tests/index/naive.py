"""Obvious, slow references for index queries: plain scans over the documents."""

from __future__ import annotations

from collections import Counter


def occurrences(docs: list[list[int]], q: list[int]) -> list[tuple[int, int]]:
    """(doc, offset) of every occurrence of q (overlapping), never across documents."""
    n = len(q)
    if n == 0:
        return [(d, i) for d, doc in enumerate(docs) for i in range(len(doc))]
    return [
        (d, i) for d, doc in enumerate(docs) for i in range(len(doc) - n + 1) if doc[i : i + n] == q
    ]


def count(docs: list[list[int]], q: list[int]) -> int:
    return len(occurrences(docs, q))


def matching_statistics(docs: list[list[int]], q: list[int]) -> list[int]:
    out = []
    for i in range(len(q)):
        length = 0
        while i + length < len(q) and count(docs, q[i : i + length + 1]) > 0:
            length += 1
        out.append(length)
    return out


def ntd(docs: list[list[int]], ctx: list[int]) -> tuple[int, Counter]:
    """Longest suffix of ctx followed by some token, and the next-token counts after it."""
    for used in range(len(ctx), -1, -1):
        suffix = ctx[len(ctx) - used :]
        nxt: Counter = Counter()
        for d, i in occurrences(docs, suffix):
            if i + used < len(docs[d]):
                nxt[docs[d][i + used]] += 1
        if nxt:
            return used, nxt
    return 0, Counter()
