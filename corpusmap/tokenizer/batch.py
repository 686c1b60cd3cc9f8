"""``TokenBatch``: the one batch type every stage hands on — flat token ids + offsets.

A batch of ``n`` token sequences is one int64 array ``flat`` (the sequences end to
end) and ``offsets`` (``n + 1`` boundaries; item ``k`` is
``flat[offsets[k]:offsets[k + 1]]``). Text is tokenized into a batch once per run
(``encode_texts``); the index accepts a batch for every query and answers with
arrays aligned to it (one value per item, or per token for matching statistics), so
no stage flattens, splits or re-encodes sequences of its own.

Per-item work that needs no suffix array lives here too, compiled: counting a
needle inside short sequences by a plain scan (``count_in``/``count_each_in``),
for haystacks (one document, one generation) where a suffix array would cost more
than it saves.

What it leaves out: ids are not checked against any vocabulary here; an index maps
ids it cannot hold to its ``unknown`` id (``clipped``) as it receives a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numba
import numpy as np
from numba import prange


@dataclass(frozen=True, slots=True)
class TokenBatch:
    """``n`` token sequences as ``flat`` int64 ids and ``n + 1`` int64 ``offsets``."""

    flat: np.ndarray
    offsets: np.ndarray

    # ---- construction ------------------------------------------------------------
    @classmethod
    def from_items(cls, items: Iterable[Sequence[int] | np.ndarray]) -> TokenBatch:
        """A batch of the given sequences (plain int lists go in with no per-item work)."""
        items = items if isinstance(items, list) else list(items)
        lengths = np.fromiter((len(x) for x in items), dtype=np.int64, count=len(items))
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if items and all(type(x) is list for x in items):
            flat = np.fromiter(chain.from_iterable(items), dtype=np.int64, count=int(offsets[-1]))
        elif items:
            flat = np.concatenate([np.asarray(x, dtype=np.int64).reshape(-1) for x in items])
        else:
            flat = np.zeros(0, dtype=np.int64)
        return cls(flat.astype(np.int64, copy=False), offsets)

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> TokenBatch:
        """An ``(m, n)`` block of equal-length rows (e.g. n-grams), one item per row."""
        m, n = rows.shape
        flat = np.ascontiguousarray(rows, dtype=np.int64).reshape(-1)
        return cls(flat, (np.arange(m + 1) * n).astype(np.int64))

    @classmethod
    def concat(cls, batches: Sequence[TokenBatch]) -> TokenBatch:
        """The items of several batches, in order, as one batch."""
        if not batches:
            return cls.from_items([])
        flat = np.concatenate([b.flat for b in batches])
        starts = np.cumsum([0] + [b.flat.size for b in batches[:-1]])
        offs = [np.zeros(1, np.int64)] + [
            b.offsets[1:] + s for b, s in zip(batches, starts, strict=True)
        ]
        return cls(flat, np.concatenate(offs).astype(np.int64))

    def spans(self, starts: np.ndarray, lengths: np.ndarray) -> TokenBatch:
        """Sub-sequences ``flat[s : s + l]`` (absolute positions in ``flat``) as a batch."""
        starts = np.asarray(starts, dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        offsets = np.zeros(len(starts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        within = np.arange(int(offsets[-1]), dtype=np.int64) - np.repeat(offsets[:-1], lengths)
        return TokenBatch(self.flat[np.repeat(starts, lengths) + within], offsets)

    def take(self, items: np.ndarray | Sequence[int]) -> TokenBatch:
        """The chosen items, in the order given."""
        idx = np.asarray(items, dtype=np.int64)
        return self.spans(self.offsets[idx], self.lengths[idx])

    def slice(self, start: int, stop: int) -> TokenBatch:
        """Items ``start:stop`` (a view of ``flat``, no copy)."""
        start, stop = min(start, len(self)), min(stop, len(self))
        a, b = int(self.offsets[start]), int(self.offsets[stop])
        return TokenBatch(self.flat[a:b], self.offsets[start : stop + 1] - a)

    def join(self, other: TokenBatch) -> TokenBatch:
        """Item-wise concatenation: item ``k`` is ``self[k]`` followed by ``other[k]``."""
        both = TokenBatch.concat([self, other])
        n = len(self)
        order = np.stack([np.arange(n), np.arange(n) + n], axis=1).reshape(-1)
        pairs = both.take(order)
        return TokenBatch(pairs.flat, pairs.offsets[::2].copy())

    def clipped(self, limit: int, unknown: int) -> TokenBatch:
        """Ids outside ``[0, limit)`` replaced by ``unknown`` (a copy only when needed)."""
        bad = (self.flat < 0) | (self.flat >= limit)
        if not bad.any():
            return self
        flat = self.flat.copy()
        flat[bad] = unknown
        return TokenBatch(flat, self.offsets)

    # ---- reading ------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.offsets.shape[0] - 1)

    def __getitem__(self, k: int) -> np.ndarray:
        return self.flat[self.offsets[k] : self.offsets[k + 1]]

    def __iter__(self) -> Any:
        for k in range(len(self)):
            yield self[k]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def item_of_token(self) -> np.ndarray:
        """For each position of ``flat``, the item it belongs to."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths)

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """Per-token ``values`` (aligned with ``flat``) cut into one array per item."""
        return np.split(values, self.offsets[1:-1]) if len(self) else []

    def per_item_max(self, values: np.ndarray) -> np.ndarray:
        """The maximum of per-token ``values`` within each item (0 for an empty item)."""
        out = np.zeros(len(self), dtype=np.int64)
        nonempty = self.offsets[1:] > self.offsets[:-1]
        if values.size:
            out[nonempty] = np.maximum.reduceat(values, self.offsets[:-1][nonempty])
        return out

    def count_in(self, needle: np.ndarray) -> np.ndarray:
        """Overlapping occurrences of one ``needle`` inside each item (plain scan)."""
        needle = np.asarray(needle, dtype=np.int64)
        return _count_needle_per_item(self.flat, self.offsets, needle)

    def count_each_in(self, hays: TokenBatch, hay_of_item: np.ndarray) -> np.ndarray:
        """Occurrences of item ``k`` inside ``hays[hay_of_item[k]]`` (plain scan, per item)."""
        return _count_items_in_hays(
            hays.flat, hays.offsets, np.asarray(hay_of_item, np.int64), self.flat, self.offsets
        )


def encode_texts(tokenizer: Any, texts: Sequence[str | None]) -> TokenBatch:
    """Tokenize ``texts`` once into a batch (``None`` counts as an empty text)."""
    return TokenBatch.from_items(tokenizer.encode_batch([t or "" for t in texts]))


@numba.njit(cache=True)
def scan_count(hay, hs, he, needle, ns, ne):  # type: ignore[no-untyped-def]
    """Overlapping occurrences of ``needle[ns:ne]`` in ``hay[hs:he]`` by a plain scan."""
    m = ne - ns
    c = 0
    for p in range(hs, he - m + 1):
        ok = True
        for j in range(m):
            if hay[p + j] != needle[ns + j]:
                ok = False
                break
        if ok:
            c += 1
    return c


@numba.njit(cache=True, parallel=True)
def _count_needle_per_item(flat, offs, needle):  # type: ignore[no-untyped-def]
    out = np.zeros(offs.shape[0] - 1, dtype=np.int64)
    for k in prange(offs.shape[0] - 1):
        out[k] = scan_count(flat, offs[k], offs[k + 1], needle, 0, needle.shape[0])
    return out


@numba.njit(cache=True, parallel=True)
def _count_items_in_hays(hay_flat, hay_offs, hay_of, q_flat, q_offs):  # type: ignore[no-untyped-def]
    n = q_offs.shape[0] - 1
    out = np.zeros(n, dtype=np.int64)
    for k in prange(n):
        d = hay_of[k]
        out[k] = scan_count(
            hay_flat, hay_offs[d], hay_offs[d + 1], q_flat, q_offs[k], q_offs[k + 1]
        )
    return out
