"""MinHash of a Ray build: each shard signed by a task, the files written by the driver.

Signing (shingle hashes, ``num_perm`` minima per document, LSH band rows) is the
work; writing is a sequential append. So one Ray task per shard opens the
written shard by path (``tokens.bin`` and ``docs.parquet`` in the build folder,
which every node sees), cuts it into the chunks a local build cuts
(``build.shard_chunks``) and returns each chunk signed (``build.sign_chunk``).
The driver takes the results in shard order and appends them with the local
writer (``build.write_signed``): the same chunks in the same order, so
``signatures.parquet``, ``bands.parquet`` and ``minhash.json`` are byte for byte
those of a local build.

At most a few shards' results wait in the object store ahead of the writer
(``_AHEAD`` per CPU of the cluster). A task lost with its node is rerun by Ray
(``max_retries``); it writes nothing, so a rerun is harmless.

What it leaves out: the write itself is not spread (one sequential pass over
``n_docs * num_perm * 4`` bytes of signatures plus the bands).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpusmap.index.minhash.build import (
    Signed,
    numba_threads,
    shard_chunks,
    sign_chunk,
    write_signed,
)

_TASK_RETRIES = 4
_AHEAD = 2


def sign_shard(shard: str, width: str, params: dict[str, Any], threads: int) -> list[Signed]:
    """A task: every chunk of one written shard, signed on ``threads`` threads."""
    with numba_threads(threads):
        return [sign_chunk(c, params) for c in shard_chunks(Path(shard), width)]


def _threads(ray: Any, n_shards: int) -> int:
    """Threads per task: the cluster's CPUs shared by the shards, within one node's CPUs."""
    nodes = [int(nd["Resources"].get("CPU", 0)) for nd in ray.nodes() if nd["Alive"]]
    total = int(ray.cluster_resources().get("CPU", 1))
    return max(1, min(total // max(1, n_shards), max(nodes, default=1)))


def signed_on_ray(
    ray: Any, folder: Path, width: str, records: list[dict[str, Any]], params: dict[str, Any]
) -> Iterator[Signed]:
    """The signed chunks of every shard, in shard order, signed by Ray tasks."""
    threads = _threads(ray, len(records))
    task = ray.remote(sign_shard).options(num_cpus=threads, max_retries=_TASK_RETRIES)
    params_ref = ray.put(params)
    ahead = max(1, _AHEAD * int(ray.cluster_resources().get("CPU", 1)) // threads)
    todo = deque(str(folder / rec["name"]) for rec in records)
    pending: deque[Any] = deque()
    while todo or pending:
        while todo and len(pending) < ahead:
            pending.append(task.remote(todo.popleft(), width, params_ref, threads))
        yield from ray.get(pending.popleft())


def build_on_ray(
    address: str,
    folder: Path,
    width: str,
    records: list[dict[str, Any]],
    out: Path,
    params: dict[str, Any],
    total: int | None,
) -> dict[str, Any]:
    """``build.build_minhash``'s files, the shards signed on the cluster at ``address``."""
    from corpusmap import ray_runtime

    with ray_runtime.session(address) as rt:
        return write_signed(out, signed_on_ray(rt, folder, width, records, params), params, total)
