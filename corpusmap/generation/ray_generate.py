"""The parts of ``generate`` as Ray tasks: one model replica per GPU (or CPU slot).

The driver reads the prompts, opens the store's run (it holds the lock and alone
rewrites the manifest), drops rows already written, and cuts the rest into the
parts a local run would write, each with its name fixed up front
(``part-NNNNN.parquet``). Each part is a task asking for one GPU (one CPU without
GPUs); the worker process loads the model once and keeps it for later tasks, so
each slot holds one replica. A task generates its rows (``api._generate_part``,
the code of a local run; every row's seed derives from its id) and writes its
part atomically (``corpusmap.atomic``): the part is whole or absent.

Exactly once: a task lost with its node is rerun by Ray under the same part name,
so it replaces, never adds; a part on disk is only recorded in the manifest by the
driver after its task returned, and a resumed run rebuilds its list from the
finished parts on disk anyway (``store.RunWriter``). Paths: the store must be on a
filesystem every node sees. What it leaves out: vLLM's own tensor parallelism
(one replica is one GPU here).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from corpusmap.generation.params import Sampling
from corpusmap.generation.prompts_file import PromptSet

_TASK_RETRIES = 4
_replicas: dict[tuple, Any] = {}


def generate_part(
    model_args: tuple[Any, ...],
    folder: str,
    name: str,
    pset: PromptSet,
    items: list[tuple[int, int]],
    params: Any,
    shared: dict[str, Any],
) -> tuple[str, list[str], int]:
    """Generate one part and write it (a task); ``(name, gen_ids, tokens)``."""
    from corpusmap.atomic import write_parquet
    from corpusmap.generation.api import _generate_part, make_backend

    if model_args not in _replicas:
        _replicas[model_args] = make_backend(*model_args)[:2]
    backend, tokenizer = _replicas[model_args]
    table = _generate_part(pset, items, tokenizer, params, backend, shared, lambda *_: None)
    write_parquet(Path(folder) / name, table, compression="zstd")
    tokens = int(sum(table.column("n_tokens").to_pylist()))
    return name, table.column("gen_id").to_pylist(), tokens


def generate_on_ray(
    ray: Any,
    writer: Any,
    pset: PromptSet,
    todo: list[tuple[int, int]],
    chunk: int,
    model_args: tuple[Any, str, Sampling, int, str | None, str | None],
    params: Any,
    shared: dict[str, Any],
    on_part: Callable[[int, int], None],
) -> None:
    """Generate ``todo`` in parts of ``chunk`` rows on the cluster, recording each part."""
    gpus = int(ray.cluster_resources().get("GPU", 0))
    slot = {"num_gpus": 1} if gpus else {"num_cpus": 1}
    task = ray.remote(generate_part).options(max_retries=_TASK_RETRIES, **slot)
    pset_ref, params_ref = ray.put(pset), ray.put(params)
    pending = {}
    for i, start in enumerate(range(0, len(todo), chunk)):
        name = f"part-{writer.next_part + i:05d}.parquet"
        items = todo[start : start + chunk]
        ref = task.remote(model_args, str(writer.folder), name, pset_ref, items, params_ref, shared)
        pending[ref] = name
    writer.next_part += len(pending)
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        pending.pop(done[0])
        name, gen_ids, tokens = ray.get(done[0])
        writer.record_part(name, gen_ids)
        on_part(len(gen_ids), tokens)
