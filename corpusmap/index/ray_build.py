"""The shards of ``build_index`` as Ray tasks: plan on the driver, write on the nodes.

Three steps, so that the driver knows every shard before any is written and a
Ray build gives the very files of a local build with the same ``shard_tokens``:

1. **count**: one task per input unit (``build_inputs.input_units``: a file, a
   ``save_to_disk`` folder, the embedded corpus) reads and tokenizes it and returns
   the token count of each document (int32, 4 bytes per document);
2. **plan**: the driver applies the local cut rule to those counts
   (``sharding.plan_cuts``): shard k holds documents ``[first, first + n)``;
3. **shard**: one task per shard reads its documents (the units that hold them,
   skipping those before its range), tokenizes, writes ``tokens.bin`` and
   ``docs.parquet`` (``writer.ShardWriter``), sorts and checksums
   (``publish.finish_shard``) in a hidden attempt folder, and renames it to
   ``shard-KKK`` when whole. The driver re-checks each shard's checksums as it
   arrives and alone writes the manifest (``build.build_index``), after all.

A node that dies takes only its unfinished tasks with it: Ray reruns them
elsewhere (``max_retries``), and a rerun starts from a fresh attempt folder, so a
half-written shard is never seen. A rerun of the whole build keeps every shard
whose ``shard.json`` still matches its files and its planned range.

Paths: the build folder (``.NAME.building`` beside the index) and the inputs
must be visible to every node at the same path (a shared filesystem); scratch
space is node-local (the sort runs in memory, ~10 bytes per token).

What it leaves out: the MinHash index is built on the driver afterwards, and a
unit is tokenized twice (count, then shard), the price of a plan made up front.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError, InputError
from corpusmap.index.build_inputs import InputUnit, input_units, read_input_unit
from corpusmap.index.format import shard_name
from corpusmap.index.publish import finish_shard, finished_shard
from corpusmap.index.sharding import plan_cuts, shard_limits
from corpusmap.progress import progress_bar
from corpusmap.sources.document import Document, ReadStats
from corpusmap.tokenizer import Tokenizer, load_from_index
from corpusmap.tokenizer.spec import TokenizerSpec

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


def count_unit(
    unit: InputUnit, read_args: dict[str, Any], spec: dict[str, Any], building: str
) -> tuple[np.ndarray, dict[str, Any]]:
    """Token count of each document of one unit, and the read statistics (a task)."""
    stats = ReadStats()
    tok = _tokenizer(spec, building)
    docs = read_input_unit(unit, stats, **read_args)
    lengths = [int(np.asarray(ids).size) for _, ids in _encoded(docs, tok)]
    return np.asarray(lengths, dtype=np.int32), stats.as_dict()


def _docs_of(slices: list[tuple[InputUnit, int, int]], read_args: dict[str, Any]) -> Any:
    """The documents of ``(unit, skip, take)`` slices, in order."""
    for unit, skip, take in slices:
        docs = read_input_unit(unit, ReadStats(), **read_args)
        yield from itertools.islice(docs, skip, skip + take)


def build_shard(
    k: int,
    first_doc: int,
    slices: list[tuple[InputUnit, int, int]],
    read_args: dict[str, Any],
    spec: dict[str, Any],
    width: str,
    building: str,
) -> dict[str, Any]:
    """Write, sort and checksum shard ``k`` from its document slices (a task)."""
    from corpusmap.index.writer import ShardWriter

    root = Path(building)
    final = root / shard_name(k)
    attempt = root / f".{shard_name(k)}.attempt-{uuid.uuid4().hex[:12]}"
    tok = _tokenizer(spec, building)
    hard_max = shard_limits(width, 1)[1]
    writer = ShardWriter(attempt, width, first_doc)
    doc: Document
    for doc, ids in _encoded(_docs_of(slices, read_args), tok):
        if ids.size + 1 > hard_max:
            raise InputError(doc.source, "document too long for one shard", line=doc.row)
        writer.add(doc, np.asarray(ids))
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


def _slices(
    units: list[InputUnit], counts: list[int], first: int, n: int
) -> list[tuple[InputUnit, int, int]]:
    """The ``(unit, skip, take)`` pieces that hold documents ``[first, first + n)``."""
    out = []
    start = 0
    for unit, c in zip(units, counts, strict=True):
        lo, hi = max(first, start), min(first + n, start + c)
        if lo < hi:
            out.append((unit, lo - start, hi - lo))
        start += c
    return out


def write_shards_on_ray(
    ray: Any,
    sources: Any,
    read_args: dict[str, Any],
    tok: Tokenizer,
    width: str,
    building: Path,
    shard_tokens: int,
) -> tuple[list[dict[str, Any]], ReadStats]:
    """Count, plan and write every shard on the cluster; records in shard order."""
    units = input_units(sources, **read_args)
    spec, where = tok.spec.to_dict(), str(building)
    count = ray.remote(count_unit).options(max_retries=_TASK_RETRIES)
    shard = ray.remote(build_shard).options(max_retries=_TASK_RETRIES)
    read_ref = ray.put(read_args)
    results = ray.get([count.remote(u, read_ref, spec, where) for u in units])
    stats = ReadStats()
    for _, s in results:
        for key in ("documents", "empty_skipped", "errors_skipped", "bytes_read", "files"):
            setattr(stats, key, getattr(stats, key) + int(s[key]))
        stats.error_examples += s["error_examples"][: 10 - len(stats.error_examples)]
    counts = [int(lengths.size) for lengths, _ in results]
    lengths = np.concatenate([r[0] for r in results] or [np.zeros(0, np.int32)])
    del results
    cuts = plan_cuts(lengths, width, shard_tokens)
    if not cuts:
        raise CorpusmapError("the sources hold no documents (all empty or skipped)")
    for stale in building.glob(".shard-*.attempt-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed run (no task runs yet)
    records: dict[int, dict[str, Any]] = {}
    pending: dict[Any, int] = {}
    for k, (first, n) in enumerate(cuts):
        old = finished_shard(building / shard_name(k))
        if old is not None and (old["first_doc_id"], old["n_docs"]) == (first, n):
            records[k] = old  # finished by an earlier run of this plan
            continue
        shutil.rmtree(building / shard_name(k), ignore_errors=True)
        slices = _slices(units, counts, first, n)
        pending[shard.remote(k, first, slices, read_ref, spec, width, where)] = k
    with progress_bar() as prog:
        task = prog.add_task("build shards (ray)", total=len(cuts), completed=len(records))
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            k = pending.pop(done[0])
            ray.get(done[0])
            rec = finished_shard(building / shard_name(k))  # the driver re-checks the sums
            if rec is None:
                raise CorpusmapError(f"{building / shard_name(k)}: shard failed its checksums")
            records[k] = rec
            prog.advance(task)
    return [records[k] for k in range(len(cuts))], stats
