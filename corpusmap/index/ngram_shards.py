"""The n-gram queries of the pattern classes, one shard at a time, merged exactly.

Each query is a per-shard function ``fn(index, k, *args)`` (what a Ray task runs
on a worker that opened the index by path) and a merge of the shards' answers on
the caller. A ``ShardMap`` says where the per-shard calls run: ``local_map`` runs
them in this process, one after the other (``Index.shard_map``);
``patterns.ray_patterns`` runs them as Ray tasks; a Ray-served index
(``ray_served.RayIndex.shard_map``) sends them to the actors holding the shards.
All give the same answers, since the merge is the same code.

Merges are exact because a document never spans two shards and shards hold
ascending doc ids:

* ``ngrams``: distinct n-grams with their count and the number of distinct
  documents holding them: counts and documents add up over shards. With one shard
  the suffix array's runs are filtered in place (``min_docs`` bounds the count
  from below). With several no per-shard threshold is safe (an n-gram held by
  ``k`` documents may occur once in each of ``k`` shards), so it takes two passes:
  each shard adds its n-grams' occurrences into hash buckets (``run_buckets``,
  2-4 buckets per token, capped at 255); the summed buckets bound every n-gram's
  total from above, so a bucket below the threshold holds no answer; then each
  shard returns the n-grams of the buckets that reach it, and the caller groups
  them by their tokens and sums counts and documents, exactly (a bucket shared by
  chance only lets a few extra n-grams through, dropped by the exact sums). Rows
  come back in token-id order.
* ``frequent_ngrams``: the strided scan of ``ngram_runs``, per shard at
  ``ceil(c / S)``; the union of the shards' rows.
* ``count`` / ``continued_count``: occurrences add up.
* ``first_docs``: the ``limit`` smallest distinct documents holding each query:
  the shards' lists in shard order, cut at ``limit``.

What it leaves out: the bucket arrays of pass 1 (one byte per bucket, per shard
and length, at most 64 MiB each) travel whole to the caller; the suffix-array
runs of pass 1 are reused by pass 2 only when both run in the same process.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from corpusmap.index import kernels as K
from corpusmap.index.layout import positions, to_keys
from corpusmap.index.ngram_runs import (
    SuffixRuns,
    available,
    bucket_totals,
    continued_count_batch,
    gather,
    run_buckets,
    strided_lcp,
)
from corpusmap.index.prefix_table import first_token_table
from corpusmap.tokenizer.batch import TokenBatch

if TYPE_CHECKING:
    from corpusmap.index.index import Index

# (per-shard function, shard numbers, extra arguments) -> one answer per shard, in order
ShardMap = Callable[[Callable[..., Any], list[int], tuple[Any, ...]], list[Any]]
Grams = tuple[np.ndarray, np.ndarray, np.ndarray]  # rows (m, n), count, distinct documents


def local_map(ix: Index) -> ShardMap:
    """Per-shard calls in this process, in shard order."""
    return lambda fn, shards, args: [fn(ix, k, *args) for k in shards]


def _nonempty(ix: Index) -> list[int]:
    """Shard numbers with suffixes (by the manifest where it says: a Ray-served index
    holds no shards in this process)."""
    recs = ix.manifest["shards"]
    if all("n_suffixes" in r for r in recs):
        return [k for k, r in enumerate(recs) if int(r["n_suffixes"])]
    return [k for k, s in enumerate(ix.shards) if s.sa.shape[0]]


# ---- per shard (what a task runs) -------------------------------------------------
def shard_count(ix: Index, k: int, batch: TokenBatch) -> np.ndarray:
    """Occurrences of each query in shard ``k``."""
    s, out = ix.shards[k], np.zeros(len(batch), dtype=np.int64)
    table = first_token_table(s, ix.separator)
    K.count_batch(s.tokens, s.sa, to_keys(s.tokens, batch.flat), batch.offsets, out, table)
    return out


def shard_continued_count(ix: Index, k: int, batch: TokenBatch) -> np.ndarray:
    """Occurrences of each query followed by a real token, in shard ``k``."""
    s, out = ix.shards[k], np.zeros(len(batch), dtype=np.int64)
    continued_count_batch(s.tokens, s.sa, batch.flat, batch.offsets, ix.separator, out)
    return out


def shard_frequent(
    ix: Index, k: int, c_min: dict[int, float], n_shards: int
) -> dict[int, np.ndarray]:
    """N-grams reaching ``ceil(c_min[n] / n_shards)`` in shard ``k`` (plus a few below)."""
    s, cap = ix.shards[k], max(c_min)
    c_eff = {n: max(1, math.ceil(c / max(n_shards, 1))) for n, c in c_min.items()}
    stride = max(1, min(c_eff.values()) // 2)
    lcp = strided_lcp(s.tokens, s.sa, stride, cap, ix.separator)
    avail: np.ndarray | None = None
    found = {}
    for n in c_min:
        if c_eff[n] <= 1:  # every distinct n-gram qualifies (stride is 1 here)
            if avail is None:
                avail = available(s.tokens, s.sa, cap, ix.separator)
            idx = np.flatnonzero(np.concatenate([[True], lcp < n]))
            idx = idx[avail[idx] >= n]
        else:  # a run of hits is one n-gram spanning those probes
            hit = lcp >= n
            first = hit & ~np.concatenate([[False], hit[:-1]])
            idx = np.flatnonzero(first) * stride
        found[n] = gather(s, idx, n)
    return found


_runs: dict[tuple[str, str, int, int], SuffixRuns] = {}  # kept from pass 1 to pass 2
_KEEP = 8


def _suffix_runs(ix: Index, k: int, cap: int, keep: bool) -> SuffixRuns:
    """Shard ``k``'s runs; ``keep`` leaves them cached for the next pass in this process."""
    key = (str(ix.path), str(ix.manifest.get("corpus_fingerprint")), k, cap)
    runs = _runs.pop(key, None) or SuffixRuns(ix, cap, k)
    if keep:
        while len(_runs) >= _KEEP:  # a pass 2 that ran elsewhere never takes its entry
            _runs.pop(next(iter(_runs)))
        _runs[key] = runs
    return runs


def shard_buckets(ix: Index, k: int, ns: list[int], cap: int, mask: int) -> dict[int, np.ndarray]:
    """Pass 1 of a several-shard ``ngrams``: occurrences per hash bucket, capped at 255."""
    runs = _suffix_runs(ix, k, cap, keep=True)
    out = {}
    for n in ns:
        lo, hi = runs.ranges(n, 1)
        out[n] = bucket_totals(runs.shard.tokens, runs.shard.sa, lo, hi, n, mask)
    return out


def shard_grams(
    ix: Index, k: int, wants: dict[int, int], cap: int, passing: dict[int, np.ndarray] | None
) -> dict[int, Grams]:
    """Distinct n-grams of shard ``k`` for each ``n`` of ``wants`` (see module).

    ``passing`` (several shards): per n, the hash buckets whose total over shards
    reaches ``wants[n]``; only n-grams in those are returned. ``None`` (one shard):
    runs held by fewer than ``wants[n]`` documents are dropped here.
    """
    runs = _suffix_runs(ix, k, cap, keep=False)
    out = {}
    for n, min_docs in wants.items():
        lo, hi = runs.ranges(n, 1 if passing is not None else min_docs)
        if passing is not None:
            mask = len(passing[n]) - 1
            ok = passing[n][run_buckets(runs.shard.tokens, runs.shard.sa, lo, n, mask)]
            lo, hi = lo[ok], hi[ok]
        docs = runs.distinct_docs(lo, hi)
        if passing is None:
            keep = docs >= min_docs
            lo, hi, docs = lo[keep], hi[keep], docs[keep]
        out[n] = (runs.rows(lo, n), hi - lo, docs)
    return out


def shard_first_docs(ix: Index, k: int, batch: TokenBatch, limit: int) -> list[np.ndarray]:
    """Per query, the ``limit`` smallest distinct documents of shard ``k`` holding it."""
    s, n = ix.shards[k], len(batch)
    lo, hi = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    K.range_batch(s.tokens, s.sa, to_keys(s.tokens, batch.flat), batch.offsets, lo, hi)
    empty = np.zeros(0, dtype=np.int64)
    out = [empty] * n
    for q in np.flatnonzero((hi > lo) & (batch.lengths > 0)).tolist():
        docs, _ = s.doc_at(positions(s.sa, s.tokens, int(lo[q]), int(hi[q])))
        out[q] = np.unique(docs)[:limit].astype(np.int64)
    return out


# ---- merged over shards ----------------------------------------------------------
def _add(parts: list[np.ndarray], size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.int64)
    for part in parts:
        out += part
    return out


def _map(ix: Index, map_shards: ShardMap | None) -> ShardMap:
    """Where the per-shard calls run: as told, else where the index holds its shards."""
    return map_shards or ix.shard_map()


def _own(ix: Index, batch: TokenBatch) -> TokenBatch:
    """Ids the index cannot hold become its ``unknown`` (as ``query_batch.to_batch``)."""
    return batch.clipped(ix.unknown, ix.unknown)


def count(ix: Index, batch: TokenBatch, map_shards: ShardMap | None = None) -> np.ndarray:
    """Occurrences of each query (exact, never across documents)."""
    batch = _own(ix, batch)
    parts = _map(ix, map_shards)(shard_count, _nonempty(ix), (batch,))
    return _add(parts, len(batch))


def continued_count(ix: Index, batch: TokenBatch, map_shards: ShardMap | None = None) -> np.ndarray:
    """Occurrences of each query followed by a real token (not a document end)."""
    batch = _own(ix, batch)
    parts = _map(ix, map_shards)(shard_continued_count, _nonempty(ix), (batch,))
    return _add(parts, len(batch))


def frequent_ngrams(
    ix: Index, c_min: dict[int, float], map_shards: ShardMap | None = None
) -> dict[int, np.ndarray]:
    """Every n-gram with at least ``c_min[n]`` occurrences, plus a few below (see module)."""
    shards = _nonempty(ix)
    parts = _map(ix, map_shards)(shard_frequent, shards, (c_min, len(shards)))
    return {
        n: np.unique(np.concatenate([p[n] for p in parts]), axis=0)
        if parts
        else np.zeros((0, n), np.int64)
        for n in c_min
    }


def _group(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(token-order sort of the rows, group id per sorted row): equal rows, equal ids."""
    order = np.lexsort(rows.T[::-1]) if rows.shape[1] else np.arange(len(rows))
    s = rows[order]
    new = np.any(s[1:] != s[:-1], axis=1) if len(s) else np.zeros(0, dtype=bool)
    return order, np.concatenate([[0], np.cumsum(new)]).astype(np.int64)


def _buckets(n_tokens: int) -> int:
    """Hash buckets for pass 1: 2-4 per token (few false candidates), 2^12..2^26."""
    return 1 << min(26, max(12, (2 * n_tokens).bit_length()))


def ngrams(
    ix: Index, wants: dict[int, int], map_shards: ShardMap | None = None
) -> dict[int, Grams]:
    """Per ``n``, the n-grams held by ``>= wants[n]`` documents: rows, count, documents.

    Several shards take two passes: per-bucket occurrence totals (an upper bound of
    every n-gram's documents), then the n-grams of the buckets reaching the threshold,
    whose counts and documents are summed exactly here.
    """
    shards = _nonempty(ix)
    run = _map(ix, map_shards)
    cap = max(wants)
    passing: dict[int, np.ndarray] | None = None
    if len(shards) > 1:
        mask = _buckets(ix.n_tokens) - 1
        per_shard = run(shard_buckets, shards, (list(wants), cap, mask))
        passing = {}
        for n, m in wants.items():
            total = per_shard[0][n].astype(np.uint16)
            for p in per_shard[1:]:
                np.minimum(total + p[n], 255, out=total)
            passing[n] = total >= m
    parts = run(shard_grams, shards, (wants, cap, passing))
    out = {}
    for n, min_docs in wants.items():
        rows = np.concatenate([p[n][0] for p in parts] or [np.zeros((0, n), np.int64)])
        cnt = np.concatenate([p[n][1] for p in parts] or [np.zeros(0, np.int64)])
        docs = np.concatenate([p[n][2] for p in parts] or [np.zeros(0, np.int64)])
        if len(rows) == 0:
            out[n] = (rows, cnt.astype(np.int64), docs.astype(np.int64))
            continue
        order, gid = _group(rows)
        first = np.concatenate([[True], gid[1:] != gid[:-1]])
        total_cnt = np.bincount(gid, weights=cnt[order]).astype(np.int64)
        total_docs = np.bincount(gid, weights=docs[order]).astype(np.int64)
        keep = total_docs >= min_docs
        out[n] = (rows[order][first][keep], total_cnt[keep], total_docs[keep])
    return out


def first_docs(
    ix: Index, batch: TokenBatch, limit: int, map_shards: ShardMap | None = None
) -> list[list[int]]:
    """Per query, the ``limit`` smallest distinct doc ids holding it (global ids)."""
    batch = _own(ix, batch)
    parts = _map(ix, map_shards)(shard_first_docs, _nonempty(ix), (batch, limit))
    return [
        np.concatenate([p[q] for p in parts])[:limit].tolist() if parts else []
        for q in range(len(batch))
    ]
