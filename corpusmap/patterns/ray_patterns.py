"""The pattern stage on Ray: the generations index built as shard tasks, per-shard work as tasks.

With ``classify(..., ray=...)`` the pattern stage runs these on the cluster:

* **the generations index G**: ``build_index(..., ray=...)`` (``index.ray_build``)
  from the tokens already in hand; its shards are tasks, by the build's default
  rule spread over the cluster's cores once G passes 4M tokens.
* **per-shard n-gram work** (``index.ngram_shards``), one task per shard, each
  opening its index by path (memory-mapped, once per worker process, like
  ``match.ray_classify``), where the cost grows with an index's size:

  - G's n-gram runs (``shard_buckets``, ``shard_grams``): an LCP pass, the
    available-token pass and the documents of every suffix-array entry of a shard,
    linear in its tokens: the heaviest G step;
  - the corpus's frequent n-grams (``shard_frequent``): a strided scan of every T
    shard, linear in the corpus, the heaviest step of all on a large corpus;
  - counts and continued counts of the candidate n-grams in T and in G
    (``shard_count``, ``shard_continued_count``): one batched search per shard;
    the batch is put in the object store once and read by every shard's task.

  The answers merge on the driver by the code of a local run, so the tables are
  row for row those of a local run.

Left on the driver, because they touch a few hundred rows and a task's round trip
would cost more than the work: the first documents of the kept rows
(``first_docs``), the next-token distributions of contingent rows, the corpus
documents of examples (``locate_docs``), closing, ranking, the behaviours, and
writing the tables.

Paths: the corpus index and the results folder must be visible to every node at
the same path (a shared filesystem). What it leaves out: an index that is not
corpusmap's own format (an infini-gram folder) keeps its T work on the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from corpusmap.index import ngram_shards as NS
from corpusmap.index.index import Index
from corpusmap.index.opening import worker_index

_TASK_RETRIES = 4


def run_shard(path: str, fingerprint: str, fn: Callable[..., Any], k: int, *args: Any) -> Any:
    """``fn(index, k, *args)`` on a worker (a task)."""
    return fn(worker_index(path, fingerprint), k, *args)


def ray_map(ray: Any, ix: Index) -> NS.ShardMap | None:
    """A ``ShardMap`` running each shard's call as a Ray task; None for a foreign index."""
    if type(ix) is not Index:  # an infini-gram folder opens with its own options
        return None
    task = ray.remote(run_shard).options(max_retries=_TASK_RETRIES)
    path, fp = str(ix.path.resolve()), str(ix.manifest["corpus_fingerprint"])

    def run(fn: Callable[..., Any], shards: list[int], args: tuple[Any, ...]) -> list[Any]:
        refs = [ray.put(a) for a in args]  # shipped once, read by every shard's task
        return list(ray.get([task.remote(path, fp, fn, k, *refs) for k in shards]))

    return run
