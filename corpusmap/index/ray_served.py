"""An ``Index`` whose shards are served by Ray actors: for indexes no machine holds.

``RayIndex`` reads only the manifest (and, for near-duplicates, the ``minhash``
folder) where the driver runs. Its shards are split among ``ShardServer`` actors,
each memory-mapping its shards on the node that holds them (``shard_map.json``
beside the manifest may name a node address per shard: ``{"shard-000":
"10.0.0.5"}``; unnamed shards go where Ray spreads them, at the same path). Every
query is put in the object store once, fanned out to all actors, and merged
exactly as ``Index`` merges its own shards:

* ``count``: the actors' counts add up; ``matching_statistics``: elementwise max
  (documents never span shards); ``longest_match`` follows from it;
* ``ntd``: each actor answers at its own longest continued context; the driver
  keeps the longest and adds the counts of the actors that reach it;
* ``locate``: each actor gives, per shard, the first ``limit`` suffix-array hits
  in suffix-array order; the driver walks the shards in order with one budget of
  ``limit`` hits, as ``Index`` does, so the same occurrences are chosen;
* ``document`` and metadata go to the actor holding the document's shard;
* the n-gram methods of the pattern classes (``continued_count``,
  ``frequent_ngrams``, ``ngrams``, ``first_docs``): ``Index``'s own code of
  ``ngram_shards``, whose per-shard calls go to the actors (``shard_map``).

An actor that dies (its node lost) is restarted by Ray, elsewhere if need be,
and the calls in flight are retried (``max_restarts``/``max_task_retries``).
Actors ask for no CPU, so they never block the tasks of a build or classify.

What it leaves out: ``suffix_runs`` (the runs object lives where its shard is;
the n-gram methods above cover what the pattern classes ask of it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError
from corpusmap.index.format import summary
from corpusmap.index.index import Index
from corpusmap.index.layout import positions
from corpusmap.index.next_token import distribution, next_token_counts
from corpusmap.index.query_batch import Queries
from corpusmap.index.ray_placement import actor_groups, partial_index
from corpusmap.tokenizer.batch import TokenBatch

_Hits = list[tuple[int, np.ndarray, list[dict[str, Any]]]]  # (shard, doc ids, rows)


class ShardServer:
    """Some shards of one index, memory-mapped in an actor (see module docstring)."""

    def __init__(self, path: str, shard_ids: list[int]) -> None:
        self.ix, self.ids = partial_index(path, shard_ids), shard_ids
        self.local = {k: i for i, k in enumerate(shard_ids)}  # shard number -> place here

    def count(self, batch: TokenBatch) -> np.ndarray:
        return self.ix.count(batch)

    def run_shards(self, fn: Any, shards: list[int], *args: Any) -> list[Any]:
        """``fn(index, k, *args)`` of ``ngram_shards`` for each of ``shards`` held here."""
        return [fn(self.ix, self.local[k], *args) for k in shards]

    def has_blocks(self) -> bool:
        return all(s.blocks.has_blocks for s in self.ix.shards)

    def matching_statistics(self, batch: TokenBatch) -> np.ndarray:
        return self.ix.matching_statistics(batch)

    def ntd(self, contexts: TokenBatch) -> list[tuple[int, dict[int, int]]]:
        """Per context: this actor's longest continued context and the counts after it."""
        return [next_token_counts(self.ix, q) for q in contexts]

    def hits(self, batch: TokenBatch, limit: int) -> list[_Hits]:
        """Per query and shard, the first ``limit`` hits in suffix-array order."""
        from corpusmap.index import kernels as K
        from corpusmap.index.layout import to_keys

        n = len(batch)
        found: list[_Hits] = [[] for _ in range(n)]
        for k, s in zip(self.ids, self.ix.shards, strict=True):
            lo, hi = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
            K.range_batch(s.tokens, s.sa, to_keys(s.tokens, batch.flat), batch.offsets, lo, hi)
            for q in np.flatnonzero(hi > lo).tolist():
                if not batch.lengths[q]:
                    continue
                take = min(int(hi[q] - lo[q]), limit)
                pos = positions(s.sa, s.tokens, int(lo[q]), int(lo[q]) + take)
                doc_ids, offsets = s.doc_at(pos)
                rows = [s.doc_record(d - s.first_doc_id) for d in doc_ids.tolist()]
                found[q].append((k, np.stack([pos, doc_ids, offsets]), rows))
        return found

    def document_tokens(self, doc_id: int) -> np.ndarray:
        return self.ix.document_tokens(doc_id)

    def document_info(self, doc_id: int) -> dict[str, Any]:
        return self.ix.document_info(doc_id)

    def doc_lengths(self) -> dict[int, np.ndarray]:
        shards = zip(self.ids, self.ix.shards, strict=True)
        return {k: s.docs.column("length").to_numpy() for k, s in shards}


class RayIndex(Index):
    """``Index`` with the same methods, its shards served by Ray actors (module docstring)."""

    def __init__(
        self,
        path: str | os.PathLike,
        tokenizer: str | None = None,
        *,
        ray: str,
        shards_per_actor: int | None = None,
    ) -> None:
        super().__init__(path, tokenizer)
        from corpusmap import ray_runtime

        self._ray, self._owned = ray_runtime.start(ray)
        rt = self._ray
        n = len(self.manifest["shards"])
        per = shards_per_actor or max(1, -(-n // ray_runtime.cluster_cpus(rt)))
        nodes = {nd["NodeManagerAddress"]: nd["NodeID"] for nd in rt.nodes() if nd["Alive"]}
        server = rt.remote(ShardServer)
        self._actors: list[Any] = []
        self._owner: dict[int, int] = {}
        for node, ks in actor_groups(self, per):
            opts: dict[str, Any] = {"num_cpus": 0, "max_restarts": -1, "max_task_retries": -1}
            if node in nodes:  # on the node that holds the shards; elsewhere if it is lost
                from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

                opts["scheduling_strategy"] = NodeAffinitySchedulingStrategy(nodes[node], soft=True)
            else:
                opts["scheduling_strategy"] = "SPREAD"
            for k in ks:
                self._owner[k] = len(self._actors)
            self._actors.append(server.options(**opts).remote(str(self.path), ks))

    def _open_shards(self) -> None:
        self.shards = []  # the actors hold them

    def __repr__(self) -> str:
        return super().__repr__().replace("Index(", f"RayIndex(actors={len(self._actors)}, ", 1)

    def close(self) -> None:
        """Stop the actors (and Ray, if opening the index started it)."""
        for a in self._actors:
            self._ray.kill(a)
        self._actors = []
        if self._owned:
            self._ray.shutdown()

    def _all(self, method: str, *args: Any) -> list[Any]:
        refs = [self._ray.put(a) if isinstance(a, TokenBatch) else a for a in args]
        return self._ray.get([getattr(a, method).remote(*refs) for a in self._actors])

    def _one(self, doc_id: int, method: str) -> Any:
        if not 0 <= doc_id < self.n_docs:
            raise CorpusmapError(f"doc_id {doc_id} out of range 0..{self.n_docs - 1}")
        k = int(np.searchsorted(self._first_ids, doc_id, side="right") - 1)
        return self._ray.get(getattr(self._actors[self._owner[k]], method).remote(doc_id))

    # ---- the queries, fanned out and merged ------------------------------------------
    def count(self, q: Queries) -> Any:
        batch, single = self._batch(q)
        out = np.asarray(np.sum(self._all("count", batch), axis=0), dtype=np.int64)
        if isinstance(q, TokenBatch):
            return out
        return int(out[0]) if single else out.tolist()

    def matching_statistics(self, q: Queries) -> Any:
        batch, single = self._batch(q)
        out = np.max(self._all("matching_statistics", batch), axis=0).astype(np.int64)
        if isinstance(q, TokenBatch):
            return out
        parts = batch.split(out)
        return parts[0] if single else parts

    def ntd(self, context: Queries, limit: int | None = None) -> Any:
        batch, single = self._batch(context)
        answers = self._all("ntd", batch)
        res = []
        for i in range(len(batch)):
            used = max(a[i][0] for a in answers)
            counts: dict[int, int] = {}
            for a in answers:
                if a[i][0] == used:
                    for t, c in a[i][1].items():
                        counts[t] = counts.get(t, 0) + c
            res.append(distribution(self, used, counts, limit))
        return res[0] if single else res

    def _hits(self, q: Queries, limit: int) -> tuple[list[list[dict[str, Any]]], bool]:
        """Per query the hits ``Index.locate`` picks: shards in order, one budget."""
        batch, single = self._batch(q)
        answers = self._all("hits", batch, limit)
        res: list[list[dict[str, Any]]] = []
        for i in range(len(batch)):
            per_shard = sorted((h for a in answers for h in a[i]), key=lambda h: h[0])
            rows: list[dict[str, Any]] = []
            for _, arr, recs in per_shard:
                take = min(arr.shape[1], limit - len(rows))
                for j in sorted(range(take), key=lambda j: arr[0, j]):
                    rec = recs[j]
                    rows.append(
                        {"doc_id": int(arr[1, j]), "offset": int(arr[2, j]), "id": rec["id"],
                         "source": rec["source"], "row": rec["row"], "meta": rec["meta"]}
                    )  # fmt: skip
            rows.sort(key=lambda h: (h["doc_id"], h["offset"]))
            res.append(rows)
        return res, single

    def locate(self, q: Queries, limit: int = 10) -> Any:
        res, single = self._hits(q, limit)
        return res[0] if single else res

    def locate_docs(self, q: Queries, limit: int = 10) -> Any:
        res, single = self._hits(q, limit)
        docs = [sorted({h["doc_id"] for h in rows}) for rows in res]
        return docs[0] if single else docs

    def document_tokens(self, doc_id: int) -> np.ndarray:
        return self._one(int(doc_id), "document_tokens")

    def document_info(self, doc_id: int) -> dict[str, Any]:
        return self._one(int(doc_id), "document_info")

    def documents_metadata(self, doc_ids: Sequence[int] | np.ndarray) -> dict[int, dict[str, Any]]:
        """``id, source, row, meta`` per document (for ``near_duplicates``)."""
        keys = ("id", "source", "row", "meta")
        return {int(d): {k: self.document_info(int(d))[k] for k in keys} for d in doc_ids}

    @property
    def doc_lengths(self) -> np.ndarray:  # type: ignore[override]
        per_shard: dict[int, np.ndarray] = {}
        for part in self._all("doc_lengths"):
            per_shard.update(part)
        arrays = [per_shard[k] for k in sorted(per_shard)] or [np.zeros(0, np.int64)]
        return np.concatenate(arrays).astype(np.int64)

    # ---- n-grams (the pattern classes) ------------------------------------------------
    def shard_map(self) -> Any:
        """Per-shard n-gram work (``ngram_shards``) sent to the actors holding the shards.

        ``continued_count``, ``frequent_ngrams``, ``ngrams`` and ``first_docs`` are
        ``Index``'s own, merging these answers as a local index merges its shards.
        """
        rt = self._ray

        def run(fn: Any, shards: list[int], args: tuple[Any, ...]) -> list[Any]:
            refs = [rt.put(a) for a in args]  # shipped once, read by every actor
            by_actor: dict[int, list[int]] = {}
            for k in shards:
                by_actor.setdefault(self._owner[k], []).append(k)
            calls = {
                a: self._actors[a].run_shards.remote(fn, ks, *refs) for a, ks in by_actor.items()
            }
            answers: dict[int, Any] = {}
            for a, part in zip(calls, rt.get(list(calls.values())), strict=True):
                answers.update(zip(by_actor[a], part, strict=True))
            return [answers[k] for k in shards]

        return run

    def suffix_runs(self, cap: int, shard: int = 0) -> Any:
        raise CorpusmapError(
            f"{self.path}: suffix runs stay in the actors of a Ray-served index; ask "
            "ngrams/frequent_ngrams/first_docs, or open_index(path) without ray"
        )

    def info(self) -> dict[str, Any]:
        info = summary(self.path, self.manifest)
        info["block_checksums"] = all(self._all("has_blocks"))
        return info
