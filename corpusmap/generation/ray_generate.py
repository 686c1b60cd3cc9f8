"""The parts of ``generate`` on Ray: one model replica per GPU (or CPU slot).

The driver reads the prompts, opens the store's run (it holds the lock and alone
rewrites the manifest), drops rows already written, and cuts the rest into the
parts a local run would write, each with its name fixed up front
(``part-NNNNN.parquet``). A replica generates a part's rows (``api._generate_part``,
the code of a local run; every row's seed derives from its id) and writes the
part atomically (``corpusmap.atomic``): the part is whole or absent.

* on GPUs (either engine): one actor per GPU (``Replica``, ``num_gpus=1``) builds
  the backend exactly as a local run does (``api.make_backend``: same engine
  options; for vLLM one ``vllm.LLM`` on the GPU Ray gives it) and keeps it; the
  driver hands each idle replica the next part and builds no engine itself. An
  actor, not a task, because Ray may hand a reused worker process a different GPU
  for its next task, while a model it cached stays on the first one;
* ``--engine hf`` without GPUs: each part is a task asking for one CPU; the worker
  process loads the model once and keeps it for later tasks;
* ``--engine vllm`` on a cluster without GPUs is refused at once (``cluster``)
  instead of queueing actors that could never start.

Exactly once: a part lost with its node is rerun under the same part name (by
Ray for a task; by the driver, on a fresh replica, for an actor), so it replaces,
never adds; a part on disk is only recorded in the manifest by the driver after
it was returned, and a resumed run rebuilds its list from the finished parts on
disk anyway (``store.RunWriter``). Paths: the store must be on a filesystem every
node sees.

What it leaves out: vLLM's tensor and pipeline parallelism (a replica is one GPU;
a model that needs several GPUs does not fit this layout), and packing several
small replicas on one GPU.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from corpusmap.errors import CorpusmapError
from corpusmap.generation.params import Sampling
from corpusmap.generation.prompts_file import PromptSet

_TASK_RETRIES = 4
_POLL_S = 5.0
_replicas: dict[tuple, Any] = {}
Done = tuple[str, list[str], int]  # part name, gen ids, tokens
ModelArgs = tuple[Any, str, Sampling, int, str | None, str | None]


@contextmanager
def cluster(ray: str | None, engine: str) -> Iterator[Any]:
    """``None`` without ``ray``; else Ray, joined for the block, once it can hold a replica."""
    if ray is None:
        yield None
        return
    from corpusmap import ray_runtime

    with ray_runtime.session(ray) as rt:
        if engine == "vllm" and int(rt.cluster_resources().get("GPU", 0)) < 1:
            raise CorpusmapError(
                f"--engine vllm on Ray needs GPUs, and the Ray cluster ({ray}) has none; "
                "join a cluster with GPU nodes, or use --engine hf (one replica per CPU)"
            )
        yield rt


def _write_part(
    backend: Any, tokenizer: Any, folder: str, name: str, pset: PromptSet,
    items: list[tuple[int, int]], params: Any, shared: dict[str, Any],
) -> Done:  # fmt: skip
    """Generate one part with ``backend`` and write it atomically."""
    from corpusmap.atomic import write_parquet
    from corpusmap.generation.api import _generate_part

    table = _generate_part(pset, items, tokenizer, params, backend, shared, lambda *_: None)
    write_parquet(Path(folder) / name, table, compression="zstd")
    tokens = int(sum(table.column("n_tokens").to_pylist()))
    return name, table.column("gen_id").to_pylist(), tokens


def generate_part(
    model_args: ModelArgs, folder: str, name: str, pset: PromptSet,
    items: list[tuple[int, int]], params: Any, shared: dict[str, Any],
) -> Done:  # fmt: skip
    """Generate one part and write it (a task; the model stays loaded in the worker)."""
    from corpusmap.generation.api import make_backend

    if model_args not in _replicas:
        _replicas[model_args] = make_backend(*model_args)[:2]
    backend, tokenizer = _replicas[model_args]
    return _write_part(backend, tokenizer, folder, name, pset, items, params, shared)


class Replica:
    """One engine on the GPU Ray gave this actor, built as a local run builds it."""

    def __init__(self, model_args: ModelArgs) -> None:
        from corpusmap.generation.api import make_backend

        self.backend, self.tokenizer = make_backend(*model_args)[:2]

    def ready(self) -> bool:
        return True

    def generate_part(self, *args: Any) -> Done:
        """``generate_part``'s work (folder, name, prompts, items, params, shared)."""
        return _write_part(self.backend, self.tokenizer, *args)


def _on_tasks(ray: Any, model_args: ModelArgs, calls: list[tuple], record: Callable) -> None:
    """Each call a one-CPU task (clusters without GPUs); Ray reruns a task lost with its node."""
    task = ray.remote(generate_part).options(max_retries=_TASK_RETRIES, num_cpus=1)
    pending = {task.remote(model_args, *call): call for call in calls}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        pending.pop(done[0])
        record(ray.get(done[0]))


def _on_replicas(ray: Any, model_args: ModelArgs, calls: list[tuple], record: Callable) -> None:
    """Feed ``calls`` to one ``Replica`` per GPU; a replica lost with its node is replaced."""
    from ray.exceptions import RayActorError

    actor = ray.remote(Replica).options(num_gpus=1, max_restarts=0)
    queue, idle = deque(calls), list[Any]()
    starting: dict[Any, Any] = {}  # ready() ref -> actor
    running: dict[Any, tuple[Any, tuple]] = {}  # call ref -> (actor, call)
    lost = 0

    def start() -> None:
        a = actor.remote(model_args)
        starting[a.ready.remote()] = a

    for _ in range(min(int(ray.cluster_resources().get("GPU", 0)), len(calls))):
        start()
    try:
        while queue or running:
            while queue and idle:
                a, todo = idle.pop(), queue.popleft()
                running[a.generate_part.remote(*todo)] = (a, todo)
            ready, _ = ray.wait([*running, *starting], num_returns=1, timeout=_POLL_S)
            if not ready:
                if not running and int(ray.cluster_resources().get("GPU", 0)) < 1:
                    raise CorpusmapError("the Ray cluster has no GPU left for a model replica")
                continue
            ref = ready[0]
            call: tuple | None
            a, call = (starting.pop(ref), None) if ref in starting else running.pop(ref)
            try:
                done = ray.get(ref)
            except RayActorError as exc:  # the replica died: its node was lost, or it never loaded
                if exc.actor_init_failed:  # the message ends with the replica's own error
                    cause = [ln for ln in str(exc).splitlines() if ln.strip()][-1].strip()
                    msg = f"a {model_args[1]} replica could not build its engine: {cause}"
                    raise CorpusmapError(msg) from exc
                lost += 1
                if lost > _TASK_RETRIES * len(calls):
                    raise
                if call is not None:
                    queue.appendleft(call)  # the same part name: a rerun replaces, never adds
                start()
                continue
            if call is not None:
                record(done)
            idle.append(a)
    finally:
        for a in [*idle, *starting.values(), *(a for a, _ in running.values())]:
            ray.kill(a)


def generate_on_ray(
    ray: Any,
    writer: Any,
    pset: PromptSet,
    todo: list[tuple[int, int]],
    chunk: int,
    model_args: ModelArgs,
    params: Any,
    shared: dict[str, Any],
    on_part: Callable[[int, int], None],
) -> None:
    """Generate ``todo`` in parts of ``chunk`` rows on the cluster, recording each part."""
    pset_ref, params_ref = ray.put(pset), ray.put(params)
    calls = []
    for i, start in enumerate(range(0, len(todo), chunk)):
        name = f"part-{writer.next_part + i:05d}.parquet"
        items = todo[start : start + chunk]
        calls.append((str(writer.folder), name, pset_ref, items, params_ref, shared))
    writer.next_part += len(calls)

    def record(done: Done) -> None:
        name, gen_ids, tokens = done
        writer.record_part(name, gen_ids)
        on_part(len(gen_ids), tokens)

    gpus = int(ray.cluster_resources().get("GPU", 0))
    run = _on_replicas if gpus or model_args[1] == "vllm" else _on_tasks
    run(ray, model_args, calls, record)
