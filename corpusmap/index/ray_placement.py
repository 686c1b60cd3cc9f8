"""Where a Ray-served index's shards go: which actor holds which, on which node.

``actor_groups`` cuts the manifest's shards into groups of ``shards_per_actor``,
keeping shards that ``shard_map.json`` (beside the manifest) places on the same
node together; ``partial_index`` is what an actor opens: an ``Index`` over its
shards only, with global document ids, checking just the files it holds.
"""

from __future__ import annotations

import json

import numpy as np

from corpusmap.errors import CorpusmapError
from corpusmap.index.index import Index

SHARD_MAP = "shard_map.json"


def partial_index(path: str, shard_ids: list[int]) -> Index:
    """An ``Index`` over some of the shards of ``path``, keeping global doc ids."""
    ix = Index.__new__(Index)
    ix._open_shards = lambda: None  # type: ignore[method-assign]
    Index.__init__(ix, path)
    from corpusmap.index.integrity import check_index_files
    from corpusmap.index.shard import Shard

    recs = [ix.manifest["shards"][k] for k in shard_ids]
    check_index_files(ix.path, dict(ix.manifest, shards=recs))  # only the shards held here
    ix.shards = [Shard(ix.path / r["name"], r, ix.width) for r in recs]
    ix._first_ids = np.array([s.first_doc_id for s in ix.shards], dtype=np.int64)
    n_docs = sum(int(r["n_docs"]) for r in ix.manifest["shards"])
    ix.manifest = dict(ix.manifest, n_docs=n_docs)
    return ix


def actor_groups(ix: Index, shards_per_actor: int) -> list[tuple[str | None, list[int]]]:
    """``(node address or None, shard numbers)`` of every actor, from the shard map."""
    path = ix.path / SHARD_MAP
    where: dict[str, str] = {}
    if path.is_file():
        try:
            where = dict(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise CorpusmapError(f"{path}: not valid JSON ({exc}); fix or delete it") from exc
    by_node: dict[str | None, list[int]] = {}
    for k, rec in enumerate(ix.manifest["shards"]):
        by_node.setdefault(where.get(rec["name"]), []).append(k)
    return [
        (node, ks[i : i + shards_per_actor])
        for node, ks in by_node.items()
        for i in range(0, len(ks), shards_per_actor)
    ]
