"""Encode batches of documents in worker processes, in order, with bounded memory.

A single HF ``tokenizers`` process reaches ~3 MB/s on this kind of machine and its
own threading adds nothing; separate processes do scale (~7.7 MB/s with two).
Workers rebuild the tokenizer once from the files saved in the index being built
(``load_from_index``), then encode whole batches. At most ``2 * workers`` batches
are in flight (``Pool.imap`` would read the whole corpus ahead), so memory does
not grow with corpus size. ``bytes``, ``ids`` and ``words`` (a compiled scanner,
~50k docs/s per process) always run in-process.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np

from corpusmap.tokenizer import Tokenizer, load_from_index
from corpusmap.tokenizer.spec import TokenizerSpec

T = TypeVar("T")
# compiled or trivial tokenizers: a process pool would only add start-up and pickling
IN_PROCESS = ("bytes", "ids", "words")
_worker_tok: Tokenizer | None = None


def _init(spec: dict, folder: str) -> None:
    global _worker_tok
    _worker_tok = load_from_index(TokenizerSpec.from_dict(spec), Path(folder))


def _encode(texts: list[str]) -> list[np.ndarray]:
    assert _worker_tok is not None
    return _worker_tok.encode_batch(texts)


def encode_batches(
    tokenizer: Tokenizer,
    folder: Path,
    batches: Iterable[tuple[T, list[str]]],
    workers: int,
) -> Iterator[tuple[T, list[np.ndarray]]]:
    """Yield ``(payload, encodings)`` for each ``(payload, texts)`` batch, in input order.

    Args:
        tokenizer: used directly when ``workers <= 1`` or the kind is trivial.
        folder: where the tokenizer's files were saved (for the workers to load).
        batches: pairs of anything to carry along (e.g. the documents) and their texts.
        workers: number of encoding processes.
    """
    if workers <= 1 or tokenizer.spec.kind in IN_PROCESS:
        for payload, texts in batches:
            yield payload, tokenizer.encode_batch(texts)
        return
    ctx = mp.get_context("spawn")
    init = (tokenizer.spec.to_dict(), str(folder))
    with ctx.Pool(workers, initializer=_init, initargs=init) as pool:
        window: deque = deque()
        for payload, texts in batches:
            window.append((payload, pool.apply_async(_encode, (texts,))))
            if len(window) >= 2 * workers:
                head, res = window.popleft()
                yield head, res.get()
        while window:
            head, res = window.popleft()
            yield head, res.get()
