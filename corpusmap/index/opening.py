"""``open_index``: open an index folder as the ``Index`` subclass its layout needs.

Our own folders open as ``Index``; infini-gram folders as ``InfiniGramIndex``
(``index/foreign``); with ``ray``, any of ours as ``RayIndex``, its shards served by
Ray actors (``ray_served``). A MinHash side folder can be attached to any of them.
"""

from __future__ import annotations

import os

from corpusmap.index.index import Index


def open_index(
    path: str | os.PathLike,
    tokenizer: str | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    minhash: str | os.PathLike | None = None,
    ray: str | None = None,
) -> Index:
    """Open an index folder: ours, or an infini-gram one (``index/foreign``).

    With ``tokenizer``, our index refuses queries if it was built with another one; an
    infini-gram u16/u32 folder needs it (it stores none). ``cache_dir`` holds side
    files of a foreign index (default ``~/.cache/corpusmap/<hash>``). ``minhash``: a
    MinHash side folder made for this index by ``corpusmap index minhash``; near-duplicate
    queries then read it (refused if it was made for another index). With ``ray``
    (``"local"`` or a cluster address) the shards are served by Ray actors on the nodes
    that hold them (``ray_served.RayIndex``): same methods, same answers.
    """
    from corpusmap.index.foreign.infinigram import InfiniGramIndex, is_infinigram

    ix: Index
    if ray is not None:
        from corpusmap.index.ray_served import RayIndex

        ix = RayIndex(path, tokenizer, ray=ray)
    elif is_infinigram(path):
        ix = InfiniGramIndex(path, tokenizer, cache_dir)
    else:
        ix = Index(path, tokenizer)
    if minhash is not None:
        from corpusmap.index.minhash.side_folder import attach_minhash

        attach_minhash(ix, minhash)
    return ix


_worker_indexes: dict[tuple[str, str], Index] = {}


def worker_index(path: str, fingerprint: str) -> Index:
    """The index at ``path``, opened once per process (a Ray worker runs many tasks).

    ``fingerprint`` (the manifest's ``corpus_fingerprint``) keys the cache, so an
    index rebuilt at the same path between calls is opened afresh.
    """
    key = (path, fingerprint)
    if key not in _worker_indexes:
        _worker_indexes[key] = Index(path)
    return _worker_indexes[key]
