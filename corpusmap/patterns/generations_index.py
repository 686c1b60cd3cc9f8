"""The generations index G: the outputs of a classify run, indexed like the corpus T.

G is built with ``build_index`` itself, from the outputs already tokenized once
for the run (``covering_tokenizer``: the corpus tokenizer; for ``words`` its
vocabulary extended by the words only the generations have, old ids unchanged).
Both sides then count the same units by the same code (``index.ngram_shards``).
Before a G n-gram is counted in T, the index maps ids T cannot hold to its
``unknown`` id, which matches nothing.

G is written to ``RESULTS/generations_index``, a normal index you can query with
``corpusmap index count|ntd|locate``; its documents are the non-empty outputs, and
``docs.row - 1`` is the generation's row. It may have several shards, like T: by
``build_index``'s default rule (one shard up to 2^28 tokens on one core; with
``ray``, spread over the cluster's cores above 4M tokens), or ``shard_tokens``.
Every answer of the pattern stage is the same whatever the shards. With ``ray``
the shards are built as Ray tasks (``build_index(..., ray=...)``).

What it leaves out: deciding whether an existing G may be reused (``run``/``steps``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corpusmap.errors import CorpusmapError
from corpusmap.index import ngram_shards as NS
from corpusmap.index.index import Index
from corpusmap.index.opening import open_index
from corpusmap.patterns.sides import Side
from corpusmap.sources.document import Document
from corpusmap.tokenizer import Tokenizer
from corpusmap.tokenizer.batch import TokenBatch

GINDEX = "generations_index"


class Generations(Side):
    """The generations index G, which table row each of its documents is, and its texts."""

    def __init__(
        self,
        index: Index,
        rows: np.ndarray,
        outputs: TokenBatch,
        map_shards: NS.ShardMap | None = None,
    ) -> None:
        super().__init__(index, map_shards)
        self.rows = rows  # doc id -> table row
        self.outputs = outputs  # every row's output, in G ids (empty rows included)

    @property
    def tokenizer(self) -> Tokenizer:
        return self.index.tokenizer


def build_generations(
    out: Path,
    outputs: TokenBatch,
    tokenizer: Tokenizer,
    *,
    shard_tokens: int | None = None,
    ray: str | None = None,
    workers: int | None = None,
) -> Path:
    """Index the tokenized outputs at ``out/generations_index`` (see module)."""
    from corpusmap.index.build import build_index

    if not (outputs.lengths > 0).any():
        raise CorpusmapError("every generation output is empty: nothing to count patterns in")
    # document k is table row k (row = k + 1); empty outputs are skipped by the build
    docs = [
        Document(text=None, source="<generations>", row=k + 1, tokens=ids)
        for k, ids in enumerate(outputs)
    ]
    return build_index(docs, out / GINDEX, tokenizer=tokenizer, shard_tokens=shard_tokens,
                       minhash=False, workers=workers or 1, force=True, ray=ray)  # fmt: skip


def load_generations(
    out: Path, outputs: TokenBatch, map_shards: NS.ShardMap | None = None
) -> Generations:
    """Open ``out/generations_index`` as G for the table whose outputs are ``outputs``."""
    gix = open_index(out / GINDEX)
    rows = np.concatenate([s.docs.column("row").to_numpy() for s in gix.shards]).astype(np.int64)
    return Generations(gix, rows - 1, outputs, map_shards)
