"""One side of the pattern stage: an index whose per-shard n-gram work runs where told.

The pattern classes count on two sides, the corpus T and the generations G. Both
are ``Side`` objects: the n-gram queries of ``index.ngram_shards`` (counts,
continued counts, frequent n-grams, n-gram runs, first documents) with a
``ShardMap`` that runs each shard's part in this process (``local_map``), as a
Ray task (``ray_patterns.ray_map``), or in the actors of a Ray-served index
(``RayIndex.shard_map``); everything else (tokenizer, opportunities,
``ntd``, ``locate_docs``, documents) is the index's own. The answers are the
same either way: the merge of the shards' parts is the same code.

What it leaves out: the queries a side answers for a few rows only (``ntd``,
``locate_docs``, documents) always run in this process.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from corpusmap.index import ngram_shards as NS
from corpusmap.index.index import Index
from corpusmap.tokenizer.batch import TokenBatch


class Side:
    """An index and where its per-shard n-gram work runs (see module)."""

    def __init__(self, index: Index, map_shards: NS.ShardMap | None = None) -> None:
        self.index = index
        self.map_shards = map_shards or index.shard_map()

    def __getattr__(self, name: str) -> Any:  # tokenizer, spec, opportunities, ntd, ...
        return getattr(self.index, name)

    def count(self, batch: TokenBatch) -> np.ndarray:
        return NS.count(self.index, batch, self.map_shards)

    def continued_count(self, batch: TokenBatch) -> np.ndarray:
        return NS.continued_count(self.index, batch, self.map_shards)

    def frequent_ngrams(self, c_min: dict[int, float]) -> dict[int, np.ndarray]:
        return NS.frequent_ngrams(self.index, c_min, self.map_shards)

    def ngrams(self, wants: dict[int, int]) -> dict[int, NS.Grams]:
        return NS.ngrams(self.index, wants, self.map_shards)

    def first_docs(self, batch: TokenBatch, limit: int) -> list[list[int]]:
        return NS.first_docs(self.index, batch, limit, self.map_shards)
