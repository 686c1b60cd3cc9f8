"""The generation shards of ``classify`` as Ray tasks; the driver keeps the manifest.

Each task gets one shard of generation rows and their token slices (the texts were
tokenized once on the driver, ``patterns.run.encode_generations``), opens the
corpus index by path (memory-mapped; once per worker process), scores the shard
(``score.score_shard``, the code of a local run) and writes its result parts
atomically (``corpusmap.atomic``: temp name, fsync, rename), so a part is either
whole or absent. The driver alone rewrites ``manifest.json``, adding a shard to
``finished`` once its task has returned, in whatever order tasks finish; the
parts are named by shard number, so the tables are row-for-row those of a local
run. A task lost with its node is rerun by Ray (``max_retries``) and rewrites the
same part names with the same rows.

Paths: the index and the results folder must be visible to every node at the
same path (a shared filesystem). The pattern stage runs after the shards, with
its own tasks (``patterns.ray_patterns``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from corpusmap.index.index import Index
from corpusmap.index.opening import worker_index
from corpusmap.match.score import MatchParams, score_shard
from corpusmap.tokenizer.batch import TokenBatch

_TASK_RETRIES = 4


def score_part(
    index_path: str,
    fingerprint: str,
    part: str,
    rows: pa.Table,
    batches: dict[str, TokenBatch],
    params: MatchParams,
    out: str,
) -> str:
    """Score one shard and write its parts (a task); returns the part name."""
    from corpusmap.match.run import write_part

    ix = worker_index(index_path, fingerprint)
    for name, result in score_shard(ix, rows, batches, params).items():
        if result is not None and result.num_rows:
            write_part(Path(out) / name, part, result)
    return part


def score_on_ray(
    ray: Any,
    ix: Index,
    table: pa.Table,
    encoded: dict[str, TokenBatch],
    params: MatchParams,
    out: Path,
    shard_rows: int,
    todo: list[int],
    on_done: Callable[[str, int], None],
) -> None:
    """Score shards ``todo`` (by number) on the cluster; ``on_done(part, rows)`` per shard."""
    task = ray.remote(score_part).options(max_retries=_TASK_RETRIES)
    path, fp = str(ix.path.resolve()), ix.manifest["corpus_fingerprint"]
    params_ref = ray.put(params)
    pending: dict[Any, int] = {}
    for k in todo:
        start = k * shard_rows
        rows = table.slice(start, shard_rows)
        batches = {c: b.slice(start, start + shard_rows) for c, b in encoded.items()}
        part = f"part-{k:05d}.parquet"
        pending[task.remote(path, fp, part, rows, batches, params_ref, str(out))] = rows.num_rows
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        n = pending.pop(done[0])
        on_done(ray.get(done[0]), n)
