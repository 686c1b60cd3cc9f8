"""The two sides of every comparison: the corpus index T and an index over the generations G.

G is built with ``build_index`` itself, from the generation outputs, with the
corpus index's own tokenizer object, so both sides count the same units by the
same code. For the ``words`` tokenizer G uses the corpus vocabulary extended by
the words only the generations have: old ids are unchanged, and a new id (>= the
corpus vocabulary) is mapped to the corpus index's ``unknown`` id, which matches
nothing, before a G n-gram is counted in T.

G is written to ``RESULTS/generations_index`` (rebuilt on every run), a normal
index you can query with ``corpusmap index count|ntd|locate``; its documents
are the non-empty outputs, and ``docs.row - 1`` is the generation's row.

What it leaves out: G must fit one shard (< 2^31 bytes of tokens, ~5e8 u32
tokens); larger dumps are refused with a message (classify them in parts).
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa

from corpusmap.errors import CorpusmapError
from corpusmap.index import kernels as K
from corpusmap.index.index import Index, open_index
from corpusmap.index.shard import Shard
from corpusmap.tokenizer import Tokenizer

GINDEX = "generations_index"


class Side:
    """One index with the batched counts the classes need, over flat query arrays.

    Queries are ``flat`` token ids with boundaries ``offs`` (query k is
    ``flat[offs[k]:offs[k+1]]``), answered by one compiled call per shard.
    ``limit`` is this side's vocabulary: ids at or above it are mapped to the
    index's ``unknown`` id first.
    """

    def __init__(self, index: Index, vocab_size: int) -> None:
        self.index = index
        self.vocab_size = vocab_size

    @cached_property
    def doc_lengths(self) -> np.ndarray:
        return np.concatenate(
            [s.docs.column("length").to_numpy() for s in self.index.shards]
        ).astype(np.int64)

    def opportunities(self, n: int) -> int:
        """Number of n-gram positions: Σ over documents of max(length - n + 1, 0)."""
        return int(np.maximum(self.doc_lengths - n + 1, 0).sum())

    def _map(self, flat: np.ndarray) -> np.ndarray:
        flat = np.asarray(flat, dtype=np.int64)
        return np.where((flat >= 0) & (flat < self.vocab_size), flat, self.index.unknown)

    def count(self, flat: np.ndarray, offs: np.ndarray) -> np.ndarray:
        """Exact occurrences of each query (one batched call per shard)."""
        q = self._map(flat)
        out = np.zeros(len(offs) - 1, dtype=np.int64)
        for s in self.index.shards:
            if s.sa.shape[0]:
                K.count_batch(s.tokens, s.sa, q, offs, out)
        return out

    def continued(self, flat: np.ndarray, offs: np.ndarray) -> np.ndarray:
        """Occurrences of each query followed by a real token (not a document end)."""
        from corpusmap.patterns.kernels import continued_count_batch

        q = self._map(flat)
        out = np.zeros(len(offs) - 1, dtype=np.int64)
        for s in self.index.shards:
            if s.sa.shape[0]:
                continued_count_batch(s.tokens, s.sa, q, offs, self.index.separator, out)
        return out


class Generations(Side):
    """The generations index G, and which table row each of its documents is."""

    def __init__(self, index: Index, rows: np.ndarray) -> None:
        super().__init__(index, index.tokenizer.spec.vocab_size)
        if len(index.shards) != 1:
            raise CorpusmapError(
                f"{index.path}: the generations need {len(index.shards)} shards; pattern "
                "classes handle one (< 2^31 bytes of tokens): classify the dump in parts"
            )
        self.rows = rows  # doc id -> table row

    @property
    def shard(self) -> Shard:
        return self.index.shards[0]

    @cached_property
    def sa_docs(self) -> np.ndarray:
        """Document id of each suffix-array entry (int32)."""
        # doc id of every token position (separators included), read at each suffix
        lengths = self.doc_lengths + 1
        of_pos = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
        return of_pos[self.shard.sa]

    @property
    def tokenizer(self) -> Tokenizer:
        return self.index.tokenizer

    def doc_tokens(self) -> tuple[np.ndarray, np.ndarray]:
        """All documents' tokens flat, and their boundaries (separators left out)."""
        starts = self.shard.starts
        lengths = self.doc_lengths
        toks = np.asarray(self.shard.tokens, dtype=np.int64)
        keep = np.ones(toks.shape[0], dtype=bool)
        keep[starts + lengths] = False  # the separator after each document
        offs = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return toks[keep], offs


def generation_tokenizer(ix: Index, outputs: list[str]) -> Tokenizer:
    """The corpus tokenizer; for ``words``, extended by the words the outputs add.

    New words are found without running the word regex over every token: a word
    never spans whitespace, so only the distinct whitespace-separated pieces the
    vocabulary lacks (e.g. ``word,`` or a new word) are split. They get ids in
    sorted order, so the same outputs always give the same ids.
    """
    tok = ix.tokenizer
    if ix.spec.kind != "words":
        return tok
    from corpusmap.tokenizer.words import WORD_RE, WordsTokenizer

    assert isinstance(tok, WordsTokenizer)
    pieces: set[str] = set()
    for text in outputs:
        pieces.update(text.split())
    words = {w for piece in pieces.difference(tok.ids) for w in WORD_RE.findall(piece)}
    new = sorted(words.difference(tok.ids))
    return tok.extended(new) if new else tok


def build_generations(
    out: Path, table: pa.Table, ix: Index, workers: int | None = None
) -> Generations:
    """Index the outputs at ``out/generations_index`` with the corpus tokenizer (see module)."""
    from corpusmap.index.build import build_index

    outputs = [t or "" for t in table.column("output").to_pylist()]
    if not any(t.strip() for t in outputs):
        raise CorpusmapError("every generation output is empty: nothing to count patterns in")
    tok = generation_tokenizer(ix, outputs)
    src = out / f".{GINDEX}.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for text in outputs:  # line k+1 is table row k; empty outputs are skipped by the reader
            f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    try:
        path = build_index(src, out / GINDEX, tokenizer=tok, shard_tokens=1 << 40, minhash=False,
                           workers=workers or 1, force=True)  # fmt: skip
    finally:
        src.unlink(missing_ok=True)
    gix = open_index(path)
    rows = np.concatenate([s.docs.column("row").to_numpy() for s in gix.shards]).astype(np.int64)
    return Generations(gix, rows - 1)
