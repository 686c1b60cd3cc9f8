"""The generations index G: the outputs of a classify run, indexed like the corpus T.

G is built with ``build_index`` itself, from the outputs already tokenized once
for the run (``covering_tokenizer``: the corpus tokenizer; for ``words`` its
vocabulary extended by the words only the generations have, old ids unchanged).
Both sides then count the same units by the same code, through the ``Index`` API.
Before a G n-gram is counted in T, the index maps ids T cannot hold to its
``unknown`` id, which matches nothing.

G is written to ``RESULTS/generations_index`` (rebuilt on every run), a normal
index you can query with ``corpusmap index count|ntd|locate``; its documents are
the non-empty outputs, and ``docs.row - 1`` is the generation's row.

What it leaves out: G must fit one shard (< 2^31 bytes of tokens, ~5e8 u32
tokens); larger dumps are refused with a message (classify them in parts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corpusmap.errors import CorpusmapError
from corpusmap.index.index import Index
from corpusmap.index.opening import open_index
from corpusmap.sources.document import Document
from corpusmap.tokenizer import Tokenizer
from corpusmap.tokenizer.batch import TokenBatch

GINDEX = "generations_index"


class Generations:
    """The generations index G, which table row each of its documents is, and its texts."""

    def __init__(self, index: Index, rows: np.ndarray, outputs: TokenBatch) -> None:
        if len(index.shards) != 1:
            raise CorpusmapError(
                f"{index.path}: the generations need {len(index.shards)} shards; pattern "
                "classes handle one (< 2^31 bytes of tokens): classify the dump in parts"
            )
        self.index = index
        self.rows = rows  # doc id -> table row
        self.outputs = outputs  # every row's output, in G ids (empty rows included)

    @property
    def tokenizer(self) -> Tokenizer:
        return self.index.tokenizer

    @property
    def doc_lengths(self) -> np.ndarray:
        return self.index.doc_lengths

    def opportunities(self, n: int) -> int:
        return self.index.opportunities(n)

    def count(self, batch: TokenBatch) -> np.ndarray:
        return self.index.count(batch)


def build_generations(
    out: Path, outputs: TokenBatch, tokenizer: Tokenizer, workers: int | None = None
) -> Generations:
    """Index the tokenized outputs at ``out/generations_index`` (see module)."""
    from corpusmap.index.build import build_index

    if not (outputs.lengths > 0).any():
        raise CorpusmapError("every generation output is empty: nothing to count patterns in")
    # document k is table row k (row = k + 1); empty outputs are skipped by the build
    docs = [
        Document(text=None, source="<generations>", row=k + 1, tokens=ids)
        for k, ids in enumerate(outputs)
    ]
    path = build_index(docs, out / GINDEX, tokenizer=tokenizer, shard_tokens=1 << 40,
                       minhash=False, workers=workers or 1, force=True)  # fmt: skip
    gix = open_index(path)
    rows = np.concatenate([s.docs.column("row").to_numpy() for s in gix.shards]).astype(np.int64)
    return Generations(gix, rows - 1, outputs)
