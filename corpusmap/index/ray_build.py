"""The shards of ``build_index`` as Ray tasks: plan on the driver, write on the nodes.

Two kinds of task, so that the driver knows a shard's range before it is written
and a Ray build gives the very files of a local build with the same ``shard_tokens``:

1. **read**: one task per input unit (``build_inputs.input_units``: a file, a
   ``save_to_disk`` folder, the embedded corpus) reads and tokenizes it once and
   returns two objects: each document's token count (int32, 4 bytes per document,
   fetched by the driver) and the tokenized unit (``UnitTokens``: flat ids in the
   index width plus each document's id/source/row/meta), which stays in the object
   store of the node that made it;
2. **shard**: as the counts arrive in unit order, the driver applies the local
   cut rule (``sharding.CutPlanner``) and starts each shard the moment its range is
   fixed, handing it the tokenized units that hold its documents. The task slices
   them, writes ``tokens.bin`` and ``docs.parquet`` (``writer.ShardWriter``), sorts
   and checksums (``publish.finish_shard``) in a hidden attempt folder, and renames
   it to ``shard-KKK`` when whole. The driver re-checks each shard's checksums as
   it arrives and alone writes the manifest (``build.build_index``), after all.

Read tasks are submitted first, so the cluster reads before it sorts (the last
shard can only start once every unit is read); shard tasks fill the cores that
reading leaves free. A node that dies takes only its unfinished tasks with it: Ray
reruns them elsewhere (``max_retries``) and rebuilds a tokenized unit lost with the
node by rerunning its read task (lineage); a rerun shard starts from a fresh
attempt folder, so a half-written shard is never seen. A rerun of the whole build
keeps every shard whose ``shard.json`` still matches its files and its range.

Paths: the build folder (``.NAME.building`` beside the index) and the inputs
must be visible to every node at the same path (a shared filesystem); scratch
space is node-local (the sort runs in memory, ~10 bytes per token).

MinHash signatures follow as one task per written shard (``minhash.ray_sign``).

What it leaves out: bounding reads ahead of sorting. The tokenized units wait in
the object store until their shards are written (Ray spills them to node-local
disk when it fills: at most the whole corpus in the index width, e.g. 2 bytes per
token for u16).
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError, InputError
from corpusmap.index.build_inputs import InputUnit, input_units, read_input_unit
from corpusmap.index.format import shard_name
from corpusmap.index.publish import finish_shard, finished_shard
from corpusmap.index.sharding import CutPlanner, shard_limits
from corpusmap.progress import progress_bar
from corpusmap.sources.document import Document, ReadStats
from corpusmap.tokenizer import Tokenizer, load_from_index
from corpusmap.tokenizer.spec import WIDTHS, TokenizerSpec, unknown_id

_TASK_RETRIES = 4
_ENCODE_DOCS = 512
_tokenizers: dict[tuple[str, str], Tokenizer] = {}


def _tokenizer(spec: dict[str, Any], building: str) -> Tokenizer:
    """The build's tokenizer, loaded once per worker process from the build folder."""
    key = (building, repr(sorted(spec.items())))
    if key not in _tokenizers:
        _tokenizers[key] = load_from_index(TokenizerSpec.from_dict(spec), Path(building))
    return _tokenizers[key]


def _encoded(docs: Any, tok: Tokenizer) -> Any:
    """``(doc, ids)`` in order, encoding texts a batch at a time."""
    while batch := list(itertools.islice(docs, _ENCODE_DOCS)):
        texts = [d.text for d in batch if d.tokens is None]
        enc = iter(tok.encode_batch(texts) if texts else [])
        for d in batch:
            yield d, (d.tokens if d.tokens is not None else next(enc))


@dataclass
class UnitTokens:
    """One input unit, tokenized: what ``ShardWriter.add`` needs of each document.

    ``ids`` holds every document's tokens back to back, in the index width when all
    ids fit it (else as read, so the writer reports the bad id where a local build
    would); ``ends`` is each document's end offset in ``ids``.
    """

    ids: np.ndarray
    ends: np.ndarray
    doc_ids: list[str | None]
    sources: list[str]
    rows: list[int]
    metas: list[dict[str, Any]]


def read_unit(
    unit: InputUnit, read_args: dict[str, Any], spec: dict[str, Any], building: str, width: str
) -> tuple[tuple[np.ndarray, dict[str, Any]], UnitTokens]:
    """Read and tokenize one unit (a task with two returns: counts + stats, tokens)."""
    stats = ReadStats()
    tok = _tokenizer(spec, building)
    docs = read_input_unit(unit, stats, **read_args)
    dtype, limit, fits = WIDTHS[width], unknown_id(width), True
    arrays: list[np.ndarray] = [np.zeros(0, dtype=dtype)]
    out = UnitTokens(np.zeros(0), np.zeros(0), [], [], [], [])
    for doc, ids in _encoded(docs, tok):
        a = np.asarray(ids)
        if fits and a.size and (int(a.min()) < 0 or int(a.max()) >= limit):
            fits = False  # kept as read from here on: the writer names the bad id
        arrays.append(a.astype(dtype, copy=False) if fits else a)
        out.doc_ids.append(doc.id)
        out.sources.append(doc.source)
        out.rows.append(doc.row)
        out.metas.append(doc.meta)
    lengths = np.asarray([a.size for a in arrays[1:]], dtype=np.int64)
    out.ends = np.cumsum(lengths)
    out.ids = np.concatenate(arrays if fits else [a.astype(np.int64) for a in arrays])
    return (lengths.astype(np.int32), stats.as_dict()), out


def build_shard(
    k: int,
    first_doc: int,
    pieces: list[tuple[int, int]],
    width: str,
    building: str,
    *units: UnitTokens,
) -> dict[str, Any]:
    """Write, sort and checksum shard ``k`` from ``(skip, take)`` of each unit (a task)."""
    from corpusmap.index.writer import ShardWriter

    root = Path(building)
    final = root / shard_name(k)
    attempt = root / f".{shard_name(k)}.attempt-{uuid.uuid4().hex[:12]}"
    hard_max = shard_limits(width, 1)[1]
    writer = ShardWriter(attempt, width, first_doc)
    for u, (skip, take) in zip(units, pieces, strict=True):
        for j in range(skip, skip + take):
            start = int(u.ends[j - 1]) if j else 0
            ids = u.ids[start : int(u.ends[j])]
            doc = Document(None, u.sources[j], u.rows[j], id=u.doc_ids[j], meta=u.metas[j])
            if ids.size + 1 > hard_max:
                raise InputError(doc.source, "document too long for one shard", line=doc.row)
            writer.add(doc, ids)
    writer.close()
    rec = {
        "name": final.name,
        "n_docs": writer.n_docs,
        "n_tokens": writer.n_tokens,
        "first_doc_id": first_doc,
    }
    record = finish_shard(str(attempt), width, rec)
    if final.exists():  # an earlier attempt of this task finished after all: same bytes
        shutil.rmtree(final)
    os.replace(attempt, final)
    return record


def _pieces(starts: list[int], first: int, n: int) -> list[tuple[int, int, int]]:
    """``(unit, skip, take)`` of the units that hold documents ``[first, first + n)``.

    ``starts[u]`` is unit ``u``'s first document; the last entry is the end of the
    units counted so far.
    """
    out = []
    for u in range(len(starts) - 1):
        lo, hi = max(first, starts[u]), min(first + n, starts[u + 1])
        if lo < hi:
            out.append((u, lo - starts[u], hi - lo))
    return out


def _result(ray: Any, ref: Any) -> Any:
    """A task's result; a task's own ``CorpusmapError`` is raised as itself (one line)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, CorpusmapError):
            raise exc.cause from None
        raise


def _add_stats(stats: ReadStats, s: dict[str, Any]) -> None:
    for key in ("documents", "empty_skipped", "errors_skipped", "bytes_read", "files"):
        setattr(stats, key, getattr(stats, key) + int(s[key]))
    stats.error_examples += s["error_examples"][: 10 - len(stats.error_examples)]


def write_shards_on_ray(
    ray: Any,
    sources: Any,
    read_args: dict[str, Any],
    tok: Tokenizer,
    width: str,
    building: Path,
    shard_tokens: int,
    phases: dict[str, float] | None = None,
) -> tuple[list[dict[str, Any]], ReadStats]:
    """Read, plan and write every shard on the cluster; records in shard order.

    ``phases`` receives the seconds until every unit was read (``read``) and from
    then until the last shard was written and re-checked (``shards_after_read``).
    """
    t0 = time.perf_counter()
    units = input_units(sources, **read_args)
    spec, where = tok.spec.to_dict(), str(building)
    read = ray.remote(read_unit).options(max_retries=_TASK_RETRIES, num_returns=2)
    shard = ray.remote(build_shard).options(max_retries=_TASK_RETRIES)
    for stale in building.glob(".shard-*.attempt-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed run (no task runs yet)
    read_ref = ray.put(read_args)
    counted: dict[Any, int] = {}
    tokens: list[Any] = []
    for i, unit in enumerate(units):
        count_ref, tokens_ref = read.remote(unit, read_ref, spec, where, width)
        counted[count_ref] = i
        tokens.append(tokens_ref)
    arrived: dict[int, tuple[np.ndarray, dict[str, Any]]] = {}
    planner = CutPlanner(width, shard_tokens)
    starts = [0]  # first document of each unit counted so far, then the end
    stats = ReadStats()
    records: dict[int, dict[str, Any]] = {}
    building_now: dict[Any, int] = {}

    def start_shards(cuts: list[tuple[int, int]]) -> None:
        """Keep each shard an earlier run finished; start a task for every other."""
        for first, n in cuts:
            k = len(records) + len(building_now)
            old = finished_shard(building / shard_name(k))
            if old is not None and (old["first_doc_id"], old["n_docs"]) == (first, n):
                records[k] = old  # finished by an earlier run of this plan
                continue
            shutil.rmtree(building / shard_name(k), ignore_errors=True)
            parts = _pieces(starts, first, n)
            args = [tokens[u] for u, _, _ in parts]
            refs = shard.remote(k, first, [(s, t) for _, s, t in parts], width, where, *args)
            building_now[refs] = k
        for u in range(len(starts) - 1):  # the driver lets go of units no shard still needs
            if starts[u + 1] <= planner.first:
                tokens[u] = None

    def all_read() -> None:
        """Every unit is counted: the last shard's range is fixed too."""
        if phases is not None:
            phases["read"] = round(time.perf_counter() - t0, 3)
        start_shards(planner.finish())
        if not records and not building_now:
            raise CorpusmapError("the sources hold no documents (all empty or skipped)")

    if not counted:
        all_read()
    with progress_bar() as prog:
        task = prog.add_task("build shards (ray)", total=None)
        while counted or building_now:
            done, _ = ray.wait([*counted, *building_now], num_returns=1)
            if done[0] in counted:
                arrived[counted.pop(done[0])] = _result(ray, done[0])
                while (u := len(starts) - 1) in arrived:  # plan in unit order
                    lengths, s = arrived.pop(u)
                    _add_stats(stats, s)
                    starts.append(starts[-1] + int(lengths.size))
                    start_shards(planner.feed(lengths))
                if not counted:
                    all_read()
                continue
            k = building_now.pop(done[0])
            _result(ray, done[0])
            rec = finished_shard(building / shard_name(k))  # the driver re-checks the sums
            if rec is None:
                raise CorpusmapError(f"{building / shard_name(k)}: shard failed its checksums")
            records[k] = rec
            prog.advance(task)
    if phases is not None:
        phases["shards_after_read"] = round(time.perf_counter() - t0 - phases["read"], 3)
    return [records[k] for k in range(len(records))], stats
