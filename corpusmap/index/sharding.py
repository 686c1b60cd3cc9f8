"""Stream documents into shards: encode in workers, write, sort finished shards.

``write_shards`` is the middle of ``build_index``: documents are grouped into
batches, encoded (``tokenizer.parallel``), appended to the current shard
(``writer``), and each full shard goes to a thread pool that sorts its suffix
array and checksums it (``finish``) while reading goes on: libdivsufsort, the
compaction and sha256 run without the GIL, and threads cost no interpreter start
or imports (a process each cost ~0.5 s of a core). The last shard is sorted in
the calling thread once reading ends.

The cut rule (a shard closes at the first document that reaches ``shard_tokens``,
or before one that would pass the 32-bit limit) is also written out as
``CutPlanner``, for builds whose driver plans shards before writing them
(``ray_build``); both give the same shards. ``default_parts`` and
``default_shard_tokens`` are the rule used without ``--shard-tokens``.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from corpusmap.errors import InputError, NoDocumentsError
from corpusmap.index.format import MAX_SHARD_BYTES, shard_name
from corpusmap.index.publish import finish_shard
from corpusmap.index.sort import omp_threads
from corpusmap.index.writer import ShardWriter
from corpusmap.progress import progress_bar
from corpusmap.sources.document import Document
from corpusmap.tokenizer import Tokenizer
from corpusmap.tokenizer.parallel import encode_batches

_BATCH_DOCS = 512
DEFAULT_SHARD_TOKENS = 1 << 28
MIN_SPLIT_TOKENS = 1 << 22  # below this a corpus sorts in seconds: one shard


def default_shard_tokens(estimated_tokens: int, parts: int) -> int:
    """Tokens per shard without ``--shard-tokens``: the corpus in ``parts`` equal shards.

    ``parts`` comes from ``default_parts``. A corpus of at least ``MIN_SPLIT_TOKENS``
    (4M) estimated tokens is cut into that many shards (rounded up to a multiple of
    2^20); no shard is planned above ``DEFAULT_SHARD_TOKENS`` (2^28), where more
    shards are made. Smaller corpora, or one part, get one shard of up to 2^28.
    """
    if parts <= 1 or estimated_tokens < MIN_SPLIT_TOKENS:
        return DEFAULT_SHARD_TOKENS
    per_part = -(-estimated_tokens // parts)
    per_part = -(-per_part // (1 << 20)) << 20
    return min(per_part, DEFAULT_SHARD_TOKENS)


def default_parts(cores: int, on_ray: bool) -> tuple[int, str]:
    """How many shards the default rule cuts a corpus into, and the rule in words.

    A local build reads in one thread and sorts full shards in a pool of one thread
    per core while it reads, then sorts the last one itself after reading ends:
    2 x cores + 1 shards give each pool thread two shards and the reading thread
    the last, a small one (measured on 2 cores, 128M tokens: 6.6-6.9 s with 5
    shards, 7.4-8.0 s with 3, 8.0-8.4 s with 4). On Ray every unit is read first and
    then all shards sort at once, so one shard per CPU of the cluster. One core:
    one shard.
    """
    if cores <= 1:
        return 1, "default: one shard (one core), each <= 2^28 tokens"
    if on_ray:
        return cores, (
            "default on Ray: one shard per cluster CPU when the corpus has >= 4M tokens, "
            "each <= 2^28 tokens"
        )
    return 2 * cores + 1, (
        "default: 2 x cores + 1 shards when the corpus has >= 4M tokens, each <= 2^28 tokens"
    )


def shard_limits(width: str, shard_tokens: int) -> tuple[int, int]:
    """``(soft, hard)`` tokens per shard: the requested size and the 32-bit ceiling."""
    itemsize = {"u8": 1, "u16": 2, "u32": 4}[width]
    hard_max = MAX_SHARD_BYTES // itemsize
    return min(shard_tokens, hard_max), hard_max


class CutPlanner:
    """The cut rule of ``write_shards``, planned ahead from document token counts.

    Fed each input unit's counts in order (``feed``), it returns the shards those
    counts close, as ``(first_doc, n_docs)``; ``finish`` returns the last, open one.
    Each document takes its tokens plus a separator; a shard closes once it reaches
    the soft limit, or before a document that would pass the hard one. A too-long
    document raises ``InputError`` where it is written (the shard task), as in a
    local build. Vectorised: one ``searchsorted`` per shard, not a loop per document.
    """

    def __init__(self, width: str, shard_tokens: int) -> None:
        self.soft, self.hard = shard_limits(width, shard_tokens)
        self.first = 0  # first document of the open shard
        self._open = np.zeros(0, dtype=np.int64)  # its documents' sizes so far

    def feed(self, lengths: np.ndarray) -> list[tuple[int, int]]:
        """The shards closed by the next documents' token counts."""
        self._open = np.concatenate([self._open, np.asarray(lengths, dtype=np.int64) + 1])
        cum = np.cumsum(self._open)
        cuts: list[tuple[int, int]] = []
        base, start = 0, 0
        while (i := int(np.searchsorted(cum, base + self.soft))) < cum.size:
            end = i if i > start and cum[i] - base > self.hard else i + 1
            cuts.append((self.first + start, end - start))
            base, start = int(cum[end - 1]), end
        self.first += start
        self._open = self._open[start:]
        return cuts

    def finish(self) -> list[tuple[int, int]]:
        """The last shard, holding the documents no shard has closed on (if any)."""
        last = [(self.first, int(self._open.size))] if self._open.size else []
        self.first += int(self._open.size)
        self._open = self._open[:0]
        return last


def plan_cuts(lengths: np.ndarray, width: str, shard_tokens: int) -> list[tuple[int, int]]:
    """``(first_doc, n_docs)`` of every shard, from each document's token count."""
    planner = CutPlanner(width, shard_tokens)
    return planner.feed(lengths) + planner.finish()


def _batches(docs: Iterator[Document]) -> Iterator[tuple[list[Document], list[str]]]:
    """Group documents; the texts of those that need encoding ride along."""
    while True:
        batch = list(itertools.islice(docs, _BATCH_DOCS))
        if not batch:
            return
        yield batch, [d.text for d in batch if d.tokens is None]  # type: ignore[misc]


class _InlineExecutor(Executor):
    """Runs each job at submit time in this process (``workers=1``: no pool start-up)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            fut.set_exception(exc)
        return fut


def resolve_sharding(
    building: Path,
    shard_tokens: int | None,
    srcs: Any,
    tok: Tokenizer,
    read_args: dict[str, Any],
    cores: int,
    on_ray: bool = False,
) -> dict[str, Any]:
    """The shard size and the rule that gave it; kept in the build folder for resumes."""
    from corpusmap.atomic import write_json
    from corpusmap.index.build_inputs import estimate_tokens

    if shard_tokens is not None:
        return {"rule": "--shard-tokens", "shard_tokens": int(shard_tokens)}
    path = building / "sharding.json"
    if path.is_file():  # a resumed build keeps the size it started with
        return dict(json.loads(path.read_text(encoding="utf-8")))
    estimate = estimate_tokens(srcs, tok, **read_args)
    parts, words = default_parts(cores, on_ray)
    rule = {
        "rule": words,
        "shard_tokens": default_shard_tokens(estimate, parts),
        "estimated_tokens": estimate,
        "cores": cores,
        "parts": parts,
    }
    write_json(path, rule)
    return rule


def write_shards(
    docs: Iterator[Document],
    tok: Tokenizer,
    width: str,
    building: Path,
    shard_tokens: int,
    workers: int,
    done: list[dict[str, Any]],
    phases: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Stream documents into shards, sorting finished shards in a thread pool.

    ``phases`` receives the seconds until every document was read and written
    (``read``) and from then until every shard was sorted (``sorts_after_read``).
    """
    t0 = time.perf_counter()
    soft_max, hard_max = shard_limits(width, shard_tokens)
    futures: list[Future] = []
    next_doc = sum(r["n_docs"] for r in done)
    writer: ShardWriter | None = None
    pool: Executor = _InlineExecutor()
    if workers > 1:  # threads: the sort, its compaction and sha256 run without the GIL
        threads = max(1, (os.cpu_count() or 1) // workers)
        pool = ThreadPoolExecutor(workers, "corpusmap-sort", omp_threads, (threads,))
    with pool, progress_bar() as prog:
        read_task = prog.add_task("read + tokenize", total=None, unit="tok")
        sort_task = prog.add_task("sort shards", total=None, unit="shard")

        def close(w: ShardWriter, inline: bool = False) -> None:
            """Finish a full shard in the pool; the last one here, while the pool works."""
            w.close()
            rec = {
                "name": w.folder.name,
                "n_docs": w.n_docs,
                "n_tokens": w.n_tokens,
                "first_doc_id": w.first_doc_id,
            }
            fut = (
                _InlineExecutor().submit(finish_shard, str(w.folder), width, rec)
                if inline
                else pool.submit(finish_shard, str(w.folder), width, rec)
            )
            fut.add_done_callback(lambda _: prog.advance(sort_task))
            futures.append(fut)

        for batch, encodings in encode_batches(tok, building, _batches(docs), workers):
            enc = iter(encodings)
            for doc in batch:
                ids = doc.tokens if doc.tokens is not None else next(enc)
                if ids.size + 1 > hard_max:
                    raise InputError(doc.source, "document too long for one shard", line=doc.row)
                if writer is not None and writer.n_tokens + ids.size + 1 > hard_max:
                    close(writer)
                    writer = None
                if writer is None:
                    k = len(done) + len(futures)
                    writer = ShardWriter(building / shard_name(k), width, next_doc)
                writer.add(doc, np.asarray(ids))
                next_doc += 1
                prog.advance(read_task, ids.size + 1)
                if writer.n_tokens >= soft_max:
                    close(writer)
                    writer = None
        t_read = time.perf_counter()
        if writer is not None and writer.n_docs:
            close(writer, inline=True)
        records = done + [f.result() for f in futures]
    if phases is not None:
        phases["read"] = round(t_read - t0, 3)
        phases["sorts_after_read"] = round(time.perf_counter() - t_read, 3)
    if not records:
        raise NoDocumentsError("the sources hold no documents (all empty or skipped)")
    return records
