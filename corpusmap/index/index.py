"""``open_index`` and ``Index``: exact, batched queries over a built index.

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
from corpusmap.index.format import read_manifest
from corpusmap.index.prefix_table import first_token_table
from corpusmap.index.query_batch import Query, QueryInput
from corpusmap.index.shard import Shard
from corpusmap.tokenizer import Tokenizer, load_from_index, resolve_tokenizer
from corpusmap.tokenizer.spec import TokenizerSpec


def open_index(path: str | os.PathLike, tokenizer: str | None = None) -> Index:
    """Open an index folder; with ``tokenizer``, refuse an index built with another one."""
    return Index(path, tokenizer)


class Index(QueryInput):
    """A corpus index opened for queries (see module docstring)."""

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
        self.shards = [Shard(self.path / r["name"], r, self.width) for r in self.manifest["shards"]]
        self._first_ids = np.array([s.first_doc_id for s in self.shards], dtype=np.int64)

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

    # ---- queries -------------------------------------------------------------
    def count(self, q: Query | Sequence[Query]) -> int | list[int]:
        """Occurrences of each n-gram in the corpus (exact, never across documents)."""
        flat, offs, single = self._batch(q)
        out = np.zeros(offs.size - 1, dtype=np.int64)
        for s in self.shards:
            K.count_batch(s.tokens, s.sa, flat, offs, out, first_token_table(s, self.separator))
        return int(out[0]) if single else out.tolist()

    def _occurrences(
        self, q: Query | Sequence[Query], limit: int
    ) -> tuple[list[list[tuple[Shard, np.ndarray, np.ndarray]]], bool]:
        """Per query, up to ``limit`` hits as (shard, doc ids, offsets), shard by shard."""
        items, single = self._items(q)
        flat, offs = self._flat(items)
        n = len(items)
        found: list[list[tuple[Shard, np.ndarray, np.ndarray]]] = [[] for _ in range(n)]
        taken = np.zeros(n, dtype=np.int64)
        for s in self.shards:
            lo, hi = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
            K.range_batch(s.tokens, s.sa, flat, offs, lo, hi)
            for k in np.flatnonzero(hi > lo).tolist():
                take = min(int(hi[k] - lo[k]), limit - int(taken[k]))
                if take > 0 and len(items[k]):
                    pos = np.sort(s.sa[lo[k] : lo[k] + take].astype(np.int64))
                    found[k].append((s, *s.doc_at(pos)))
                    taken[k] += take
        return found, single

    def locate(self, q: Query | Sequence[Query], limit: int = 10) -> Any:
        """Up to ``limit`` occurrences per n-gram: doc_id, offset (tokens) and doc metadata."""
        found, single = self._occurrences(q, limit)
        res: list[list[dict[str, Any]]] = []
        for hits in found:
            rows = []
            for s, doc_ids, offsets in hits:
                for d, o in zip(doc_ids.tolist(), offsets.tolist(), strict=True):
                    rec = s.doc_record(d - s.first_doc_id)
                    rows.append(
                        {
                            "doc_id": d,
                            "offset": o,
                            "id": rec["id"],
                            "source": rec["source"],
                            "row": rec["row"],
                            "meta": rec["meta"],
                        }
                    )
            rows.sort(key=lambda h: (h["doc_id"], h["offset"]))
            res.append(rows)
        return res[0] if single else res

    def locate_docs(self, q: Query | Sequence[Query], limit: int = 10) -> Any:
        """Distinct doc ids of up to ``limit`` occurrences per n-gram (no metadata; fast)."""
        found, single = self._occurrences(q, limit)
        res = [sorted({d for _, doc_ids, _ in hits for d in doc_ids.tolist()}) for hits in found]
        return res[0] if single else res

    def matching_statistics(self, q: Query | Sequence[Query]) -> np.ndarray | list[np.ndarray]:
        """For each position i, the length of the longest prefix of q[i:] in the corpus.

        Every position is an independent search (see ``interleaved_search``), so many run
        interleaved per thread; the maximum over shards is exact since documents
        never span shards.
        """
        flat, offs, single = self._batch(q)
        out = np.zeros(flat.size, dtype=np.int64)
        for s in self.shards:
            table = first_token_table(s, self.separator)
            K.matching_statistics_batch(s.tokens, s.sa, flat, offs, out, table)
        parts = np.split(out, offs[1:-1])
        return parts[0] if single else parts

    def longest_match(self, q: Query | Sequence[Query]) -> dict[str, int] | list[dict[str, int]]:
        """The longest span of each sequence found in the corpus: start and length."""
        items, single = self._items(q)
        stats = self.matching_statistics(items)
        res = []
        for ms in stats:  # type: ignore[union-attr]
            i = int(np.argmax(ms)) if len(ms) else 0
            res.append({"start": i, "length": int(ms[i]) if len(ms) else 0})
        return res[0] if single else res

    def ntd(self, context: Query | Sequence[Query], limit: int | None = None) -> Any:
        """Next-token distribution after the longest suffix of the context that occurs.

        Returns per context a dict: ``length_used`` (the ∞-gram context length, in
        tokens), ``total`` (occurrences of that suffix followed by a token) and
        ``distribution``: ``{token, text, count, prob}`` rows, most frequent first.
        """
        items, single = self._items(context)
        res = [self._ntd_one(x, limit) for x in items]
        return res[0] if single else res

    def _ntd_one(self, q: np.ndarray, limit: int | None) -> dict[str, Any]:
        e = len(q)
        lengths = [
            K.longest_continued_suffix(s.tokens, s.sa, q, 0, e, self.separator) for s in self.shards
        ]
        used = max(lengths) if lengths else 0
        counts: dict[int, int] = {}
        for s, length in zip(self.shards, lengths, strict=True):
            if length != used or s.sa.shape[0] == 0:
                continue
            lo, hi = K.continued_range(s.tokens, s.sa, q, e - used, e, self.separator)
            toks, cnts = K.next_token_counts(s.tokens, s.sa, lo, hi, used)
            for t, c in zip(toks.tolist(), cnts.tolist(), strict=True):
                counts[t] = counts.get(t, 0) + c
        total = sum(counts.values())
        rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        texts = self.tokenizer.token_strings([t for t, _ in rows])
        dist = [
            {"token": t, "text": txt, "count": c, "prob": c / total}
            for (t, c), txt in zip(rows, texts, strict=True)
        ]
        return {"length_used": used, "total": total, "distribution": dist}

    # ---- near-duplicates (MinHash) ------------------------------------------------
    def near_duplicates(
        self,
        texts: Query | Sequence[Query],
        threshold: float | None = None,
        limit: int = 10,
        exact: bool = False,
    ) -> Any:
        """Corpus documents whose MinHash Jaccard with each text is >= ``threshold``.

        Returns per text a list of ``{doc_id, jaccard, id, source, row, meta}``
        (plus ``exact_jaccard`` with ``exact``), most similar first; a single text
        gives a single list. ``threshold`` defaults to the one the index was built for.
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
        return np.asarray(shard.tokens[start : start + length], dtype=np.int64)

    def document(self, doc_id: int) -> str:
        """The text of a document, decoded with the index's tokenizer."""
        return self.tokenizer.decode(self.document_tokens(doc_id))

    def document_info(self, doc_id: int) -> dict[str, Any]:
        """The document's table row: id, source, row, length, metadata."""
        shard, local = self._shard_of(doc_id)
        return shard.doc_record(local)

    def info(self) -> dict[str, Any]:
        """A summary of the manifest (for ``corpusmap index info``)."""
        m = self.manifest
        keys = (
            "format_version",
            "n_docs",
            "n_tokens",
            "n_shards",
            "token_width",
            "tokenizer",
            "read_stats",
            "corpus_fingerprint",
            "created_at",
            "build",
            "minhash",
        )
        info = {k: m.get(k) for k in keys}
        info["path"] = str(self.path)
        info["bytes_on_disk"] = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        return info
