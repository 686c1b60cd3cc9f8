"""Stream documents into shards: encode in workers, write, sort finished shards.

``write_shards`` is the middle of ``build_index``: documents are grouped into
batches, encoded (``tokenizer.parallel``), appended to the current shard
(``writer``), and each full shard goes to a process pool that sorts its suffix
array and checksums it (``finish``) while reading goes on. The last shard is sorted
in this process, so a one-shard build never starts a second interpreter.

The cut rule (a shard closes at the first document that reaches ``shard_tokens``,
or before one that would pass the 32-bit limit) is also written out as
``plan_cuts``, for builds whose driver plans every shard before any is written
(``ray_build``); both give the same shards. ``default_shard_tokens`` is the rule
used without ``--shard-tokens``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from corpusmap.errors import InputError, NoDocumentsError
from corpusmap.index.format import MAX_SHARD_BYTES, shard_name
from corpusmap.index.publish import finish_shard
from corpusmap.index.writer import ShardWriter
from corpusmap.progress import progress_bar
from corpusmap.sources.document import Document
from corpusmap.tokenizer import Tokenizer
from corpusmap.tokenizer.parallel import encode_batches

_BATCH_DOCS = 512
DEFAULT_SHARD_TOKENS = 1 << 28
MIN_SPLIT_TOKENS = 1 << 22  # below this a corpus sorts in seconds: one shard


def default_shard_tokens(estimated_tokens: int, cores: int) -> int:
    """Tokens per shard without ``--shard-tokens``: spread the corpus over the cores.

    A corpus of at least ``MIN_SPLIT_TOKENS`` (4M) estimated tokens is cut into one
    shard per core (rounded up to a multiple of 2^20), so every core sorts one; no
    shard is planned above ``DEFAULT_SHARD_TOKENS`` (2^28), where more shards than
    cores are made. Smaller corpora, or one core, get one shard of up to 2^28.
    """
    if cores <= 1 or estimated_tokens < MIN_SPLIT_TOKENS:
        return DEFAULT_SHARD_TOKENS
    per_core = -(-estimated_tokens // cores)
    per_core = -(-per_core // (1 << 20)) << 20
    return min(per_core, DEFAULT_SHARD_TOKENS)


def shard_limits(width: str, shard_tokens: int) -> tuple[int, int]:
    """``(soft, hard)`` tokens per shard: the requested size and the 32-bit ceiling."""
    itemsize = {"u8": 1, "u16": 2, "u32": 4}[width]
    hard_max = MAX_SHARD_BYTES // itemsize
    return min(shard_tokens, hard_max), hard_max


def plan_cuts(lengths: np.ndarray, width: str, shard_tokens: int) -> list[tuple[int, int]]:
    """``(first_doc, n_docs)`` of every shard, from each document's token count.

    The rule of ``write_shards``, planned ahead: each document takes its tokens plus a
    separator; a shard closes once it reaches the soft limit, or before a document
    that would pass the hard one. A too-long document raises ``InputError`` where it
    is read (the shard task), as in a local build.
    """
    soft_max, hard_max = shard_limits(width, shard_tokens)
    cuts: list[tuple[int, int]] = []
    first, size = 0, 0
    for i, n in enumerate((np.asarray(lengths, dtype=np.int64) + 1).tolist()):
        if size and size + n > hard_max:
            cuts.append((first, i - first))
            first, size = i, 0
        size += n
        if size >= soft_max:
            cuts.append((first, i + 1 - first))
            first, size = i + 1, 0
    if first < len(lengths):
        cuts.append((first, len(lengths) - first))
    return cuts


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
    rule = {
        "rule": "default: one shard per core when the corpus has >= 4M tokens, each <= 2^28 tokens",
        "shard_tokens": default_shard_tokens(estimate, cores),
        "estimated_tokens": estimate,
        "cores": cores,
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
) -> list[dict[str, Any]]:
    """Stream documents into shards, sorting finished shards in a process pool."""
    soft_max, hard_max = shard_limits(width, shard_tokens)
    futures: list[Future] = []
    next_doc = sum(r["n_docs"] for r in done)
    writer: ShardWriter | None = None
    pool: Executor = (
        ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        if workers > 1
        else _InlineExecutor()
    )
    with pool, progress_bar() as prog:
        read_task = prog.add_task("read + tokenize", total=None, unit="tok")
        sort_task = prog.add_task("sort shards", total=None, unit="shard")

        def close(w: ShardWriter, inline: bool = False) -> None:
            """Finish a full shard in the pool; the last one here, while the pool works.

            Sorting the last shard in this process means a one-shard build never
            starts a second process (whose interpreter would add to peak memory).
            """
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
        if writer is not None and writer.n_docs:
            close(writer, inline=True)
        records = done + [f.result() for f in futures]
    if not records:
        raise NoDocumentsError("the sources hold no documents (all empty or skipped)")
    return records
