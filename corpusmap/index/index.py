"""``Index``: exact, batched queries over a built index (``open_index`` opens one).

Every query accepts one item or a list: a string (tokenized with the index's own
tokenizer) or a list/array of token ids is one item; a list of those is a batch,
answered by one call of a compiled kernel per shard. Results over shards are
combined exactly: counts add up, matching statistics take the maximum (documents
never span shards), next-token distributions come from the shards that reach the
longest context.

What it leaves out: near-duplicate search lives in ``index/minhash`` (reached through
``Index.near_duplicates`` and ``Index.duplicates``); ``verify`` in ``verify.py``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError, TokenizerMismatchError
from corpusmap.index import kernels as K
from corpusmap.index.format import read_manifest, summary
from corpusmap.index.integrity import check_index_files
from corpusmap.index.layout import to_keys, token_ids
from corpusmap.index.locate import locate_records, occurrences
from corpusmap.index.next_token import next_token_distribution
from corpusmap.index.prefix_table import first_token_table
from corpusmap.index.query_batch import Queries, to_batch
from corpusmap.index.shard import Shard
from corpusmap.tokenizer import Tokenizer, load_from_index, resolve_tokenizer
from corpusmap.tokenizer.batch import TokenBatch, encode_texts
from corpusmap.tokenizer.spec import TokenizerSpec


class Index:
    """A corpus index opened for queries (see module docstring)."""

    minhash_dir: Path | None = None  # a MinHash side folder (open_index(..., minhash=DIR))

    def __init__(self, path: str | os.PathLike, tokenizer: str | None = None) -> None:
        self.path = Path(path)
        self.manifest = read_manifest(self.path)
        self.spec = TokenizerSpec.from_dict(self.manifest["tokenizer"])
        self.width: str = self.manifest["token_width"]
        self.separator = int(self.manifest["separator_id"])
        self.unknown = int(self.manifest["unknown_id"])
        if tokenizer is not None and not self._same_tokenizer(tokenizer):
            raise TokenizerMismatchError(
                f"{self.path} was built with tokenizer {self.spec.name!r} ({self.spec.kind}), "
                f"not {tokenizer!r}; query it with its own tokenizer (omit --tokenizer) or "
                "build an index with the one you need"
            )
        self._first_ids = np.array(
            [int(r["first_doc_id"]) for r in self.manifest["shards"]], dtype=np.int64
        )
        self._open_shards()

    def _open_shards(self) -> None:
        """Check and memory-map every shard (a Ray-served index leaves them to its actors)."""
        check_index_files(self.path, self.manifest)
        self.shards = [Shard(self.path / r["name"], r, self.width) for r in self.manifest["shards"]]

    def _same_tokenizer(self, spec: str) -> bool:
        """Whether ``spec`` names this index's tokenizer (``words`` is learnt per corpus)."""
        if spec == "words":
            return self.spec.kind == "words"
        wanted = resolve_tokenizer(spec)
        return wanted is not None and wanted.spec.same_vocabulary(self.spec)

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"Index({str(self.path)!r}, docs={m['n_docs']}, tokens={m['n_tokens']}, "
            f"tokenizer={self.spec.name!r})"
        )

    @cached_property
    def tokenizer(self) -> Tokenizer:
        return load_from_index(self.spec, self.path)

    @property
    def n_docs(self) -> int:
        return int(self.manifest["n_docs"])

    @property
    def n_tokens(self) -> int:
        return int(self.manifest["n_tokens"])

    # ---- token batches ---------------------------------------------------------
    def encode(self, texts: str | Sequence[str | None]) -> Any:
        """Texts tokenized once with the index's tokenizer: a ``TokenBatch`` for a list.

        A single string gives its ids as an array. Ids the corpus cannot hold become
        ``unknown``. Every query also accepts the batch, answering with arrays aligned
        to it.
        """
        if isinstance(texts, str):
            return self.encode([texts])[0]
        return encode_texts(self.tokenizer, texts).clipped(self.unknown, self.unknown)

    def own_ids(self, batch: TokenBatch) -> TokenBatch:
        """``batch`` with ids outside this index's vocabulary mapped to ``unknown``.

        For batches tokenized with a wider vocabulary (``covering_tokenizer``): the
        result is what this index's own tokenizer would have given.
        """
        return batch.clipped(min(self.spec.vocab_size, self.unknown), self.unknown)

    def _batch(self, q: Queries) -> tuple[TokenBatch, bool]:
        return to_batch(q, self.tokenizer, self.unknown)

    # ---- queries -------------------------------------------------------------
    def count(self, q: Queries) -> Any:
        """Occurrences of each n-gram in the corpus (exact, never across documents).

        One query gives an int, a list gives a list, a ``TokenBatch`` gives an int64
        array aligned with its items.
        """
        batch, single = self._batch(q)
        out = np.zeros(len(batch), dtype=np.int64)
        for s in self.shards:
            table = first_token_table(s, self.separator)
            K.count_batch(s.tokens, s.sa, to_keys(s.tokens, batch.flat), batch.offsets, out, table)
        if isinstance(q, TokenBatch):
            return out
        return int(out[0]) if single else out.tolist()

    def continued_count(self, q: Queries) -> np.ndarray:
        """Occurrences of each n-gram followed by a real token (not a document's end)."""
        from corpusmap.index.ngram_shards import continued_count

        return continued_count(self, self._batch(q)[0])

    def locate(self, q: Queries, limit: int = 10) -> Any:
        """Up to ``limit`` occurrences per n-gram: doc_id, offset (tokens) and doc metadata."""
        batch, single = self._batch(q)
        res = locate_records(occurrences(self.shards, batch, limit))
        return res[0] if single else res

    def locate_docs(self, q: Queries, limit: int = 10) -> Any:
        """Distinct doc ids of up to ``limit`` occurrences per n-gram (no metadata; fast)."""
        batch, single = self._batch(q)
        found = occurrences(self.shards, batch, limit)
        res = [sorted({d for _, doc_ids, _ in hits for d in doc_ids.tolist()}) for hits in found]
        return res[0] if single else res

    def matching_statistics(self, q: Queries) -> Any:
        """For each position i, the length of the longest prefix of q[i:] in the corpus.

        One query gives an array, a list gives a list of arrays, a ``TokenBatch``
        gives one int64 array aligned with its ``flat`` (``batch.split`` cuts it).
        Every position is an independent search (see ``interleaved_search``), so many
        run interleaved per thread; the maximum over shards is exact since documents
        never span shards.
        """
        batch, single = self._batch(q)
        out = np.zeros(batch.flat.size, dtype=np.int64)
        for s in self.shards:
            table = first_token_table(s, self.separator)
            keys = to_keys(s.tokens, batch.flat)
            K.matching_statistics_batch(s.tokens, s.sa, keys, batch.offsets, out, table)
        if isinstance(q, TokenBatch):
            return out
        parts = batch.split(out)
        return parts[0] if single else parts

    def longest_match(self, q: Queries) -> Any:
        """The longest span of each sequence found in the corpus: start and length."""
        batch, single = self._batch(q)
        res = []
        for ms in batch.split(self.matching_statistics(batch)):
            i = int(np.argmax(ms)) if len(ms) else 0
            res.append({"start": i, "length": int(ms[i]) if len(ms) else 0})
        return res[0] if single else res

    def ntd(self, context: Queries, limit: int | None = None) -> Any:
        """Next-token distribution after the longest suffix of the context that occurs.

        Returns per context a dict: ``length_used`` (the ∞-gram context length, in
        tokens), ``total`` (occurrences of that suffix followed by a token) and
        ``distribution``: ``{token, text, count, prob}`` rows, most frequent first.
        """
        batch, single = self._batch(context)
        res = [next_token_distribution(self, x, limit) for x in batch]
        return res[0] if single else res

    # ---- n-grams (the pattern classes) ----------------------------------------------
    @cached_property
    def doc_lengths(self) -> np.ndarray:
        """Tokens of every document, in doc_id order (int64)."""
        return np.concatenate(
            [s.docs.column("length").to_numpy() for s in self.shards] or [np.zeros(0)]
        ).astype(np.int64)

    def opportunities(self, n: int) -> int:
        """Number of n-gram positions: Σ over documents of max(length - n + 1, 0)."""
        return int(np.maximum(self.doc_lengths - n + 1, 0).sum())

    def shard_map(self) -> Any:
        """Where the per-shard n-gram work runs (``ngram_shards.ShardMap``): here, in order."""
        from corpusmap.index.ngram_shards import local_map

        return local_map(self)

    def suffix_runs(self, cap: int, shard: int = 0) -> Any:
        """The distinct n-grams (n <= ``cap``) of one shard as suffix-array runs."""
        from corpusmap.index.ngram_runs import SuffixRuns

        return SuffixRuns(self, cap, shard)

    def ngrams(self, wants: dict[int, int]) -> dict[int, Any]:
        """Per n, the n-grams held by >= ``wants[n]`` documents: (rows, count, documents).

        Exact over shards (``ngram_shards``); rows in token-id order.
        """
        from corpusmap.index.ngram_shards import ngrams

        return ngrams(self, wants)

    def first_docs(self, q: Queries, limit: int = 3) -> list[list[int]]:
        """Per n-gram, the ``limit`` smallest distinct doc ids holding it."""
        from corpusmap.index.ngram_shards import first_docs

        return first_docs(self, self._batch(q)[0], limit)

    def frequent_ngrams(self, c_min: dict[int, float]) -> dict[int, np.ndarray]:
        """Per n, every n-gram occurring >= ``c_min[n]`` times, as rows (plus a few below)."""
        from corpusmap.index.ngram_shards import frequent_ngrams

        return frequent_ngrams(self, c_min)

    # ---- near-duplicates (MinHash) ------------------------------------------------
    def near_duplicates(
        self,
        texts: Queries,
        threshold: float | None = None,
        limit: int = 10,
        exact: bool = False,
    ) -> Any:
        """Corpus documents whose MinHash Jaccard with each text is >= ``threshold``.

        Returns per text a list of ``{doc_id, jaccard, id, source, row, meta}``
        (plus ``exact_jaccard`` with ``exact``), most similar first; a single text
        gives a single list. ``threshold`` defaults to the one the MinHash was built for.
        Reads the index's own MinHash, or the side folder given to ``open_index``.
        """
        from corpusmap.index.minhash.query import near_duplicates

        return near_duplicates(self, texts, threshold=threshold, limit=limit, exact=exact)

    def duplicates(self, threshold: float | None = None) -> Any:
        """Clusters of near-duplicate corpus documents: doc_id, cluster_id, cluster_size."""
        from corpusmap.index.minhash.dups import self_duplicates

        return self_duplicates(self, threshold)

    # ---- documents -----------------------------------------------------------
    def _shard_of(self, doc_id: int) -> tuple[Shard, int]:
        if not 0 <= doc_id < self.n_docs:
            raise CorpusmapError(f"doc_id {doc_id} out of range 0..{self.n_docs - 1}")
        k = int(np.searchsorted(self._first_ids, doc_id, side="right") - 1)
        return self.shards[k], doc_id - self.shards[k].first_doc_id

    def document_tokens(self, doc_id: int) -> np.ndarray:
        shard, local = self._shard_of(doc_id)
        start = int(shard.starts[local])
        length = int(shard.docs.column("length")[local].as_py())
        return token_ids(shard.token_slice(start, start + length), 0, length)

    def documents_tokens(self, doc_ids: Sequence[int] | np.ndarray) -> TokenBatch:
        """The tokens of several documents as one batch, in the order given."""
        return TokenBatch.from_items([self.document_tokens(int(d)) for d in doc_ids])

    def document(self, doc_id: int) -> str:
        """The text of a document, decoded with the index's tokenizer."""
        return self.tokenizer.decode(self.document_tokens(doc_id))

    def document_info(self, doc_id: int) -> dict[str, Any]:
        """The document's table row: id, source, row, length, metadata."""
        shard, local = self._shard_of(doc_id)
        return shard.doc_record(local)

    def info(self) -> dict[str, Any]:
        """A summary of the manifest (for ``corpusmap index info``)."""
        info = summary(self.path, self.manifest)
        info["block_checksums"] = all(s.blocks.has_blocks for s in self.shards)
        return info


def __getattr__(name: str) -> Any:
    """``open_index`` lives in ``opening.py`` (it picks among Index subclasses)."""
    if name == "open_index":
        from corpusmap.index.opening import open_index

        return open_index
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
