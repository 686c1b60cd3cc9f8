"""Turning query arguments into token ids: one item or a batch, text or ids.

A string is tokenized with the index's own tokenizer; a list/array of ints is one
token-id query; a list of those is a batch. Ids the corpus cannot hold (negative,
or the reserved separator/unknown ids and above) become ``unknown``, which matches
nothing. A batch of plain int lists is flattened in one pass, with no per-item work.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError

Query = str | Sequence[int] | np.ndarray


class QueryInput:
    """Query normalisation shared by every ``Index`` query (needs ``tokenizer``, ``unknown``)."""

    tokenizer: Any
    unknown: int

    def encode(self, item: Query) -> np.ndarray:
        """Token ids of one query item; ids the corpus cannot hold become ``unknown``."""
        arr = (
            self.tokenizer.encode(item)
            if isinstance(item, str)
            else np.asarray(item, dtype=np.int64)
        )
        if arr.ndim != 1:
            raise CorpusmapError("a token-id query must be a flat list of integers")
        arr = arr.astype(np.int64, copy=True)
        arr[(arr < 0) | (arr >= self.unknown)] = self.unknown
        return arr

    def _items(self, q: Any) -> tuple[list[np.ndarray], bool]:
        """(encoded items, whether a single item was given)."""
        if isinstance(q, str):
            return [self.encode(q)], True
        if isinstance(q, np.ndarray):
            return ([self.encode(q)], True) if q.ndim == 1 else ([self.encode(r) for r in q], False)
        seq = list(q)  # type: ignore[arg-type]
        if all(isinstance(x, int | np.integer) for x in seq) and seq:
            return [self.encode(seq)], True
        return [self.encode(x) for x in seq], False

    def _batch(self, q: Any) -> tuple[np.ndarray, np.ndarray, bool]:
        """(flat ids, offsets, single) — a batch of id lists goes in with no per-item work."""
        if isinstance(q, list | tuple) and q and all(type(x) is list for x in q):
            lengths = np.fromiter((len(x) for x in q), dtype=np.int64, count=len(q))
            offs = np.zeros(len(q) + 1, dtype=np.int64)
            np.cumsum(lengths, out=offs[1:])
            flat = np.fromiter(chain.from_iterable(q), dtype=np.int64, count=int(offs[-1]))
            flat[(flat < 0) | (flat >= self.unknown)] = self.unknown
            return flat, offs, False
        items, single = self._items(q)
        return *self._flat(items), single

    @staticmethod
    def _flat(items: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        offs = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum([len(x) for x in items], out=offs[1:])
        flat = np.concatenate(items) if items else np.zeros(0, dtype=np.int64)
        return flat.astype(np.int64), offs
