"""The n-gram methods of a Ray-served index: each actor's share, and the driver's merge.

The pattern classes ask the corpus index three n-gram questions (``ngram_runs.py``
answers them locally); a ``RayIndex`` fans them out to its shard actors and merges
exactly as the local multi-shard ``Index`` does:

* ``continued_count``: per shard counts add up (an occurrence lies in one shard);
* ``frequent_ngrams``: the local scan probes each of the ``S`` non-empty shards of
  the whole index for ``ceil(c / S)`` and keeps the union of the per-shard blocks.
  An actor holds some shards, so it runs ``ngram_runs.frequent_ngrams`` on a view
  of one shard at a time asking for ``c / S`` (``ceil(c / S / 1)`` is the very
  float the local scan computes), and the driver unions the blocks (``np.unique``);
* ``suffix_runs``: needs a one-shard index, as locally; the runs then stay in the
  actor that holds the shard and ``ServedRuns`` forwards each call to them
  (arrays such as ``avail`` are copied to the driver when read).

What it leaves out: suffix runs over several shards (the local ``Index`` refuses
them too).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError
from corpusmap.index.index import Index

NGrams = dict[int, np.ndarray]


def shard_frequent_ngrams(ix: Index, c_min: dict[int, float], n_shards: int) -> list[NGrams]:
    """In an actor: the blocks of each non-empty shard of ``ix``, as ``S = n_shards`` asks."""
    from corpusmap.index.ngram_runs import frequent_ngrams

    per_shard = {n: c / max(n_shards, 1) for n, c in c_min.items()}
    out = []
    for s in ix.shards:
        if s.sa.shape[0]:
            view = copy.copy(ix)
            view.shards = [s]
            out.append(frequent_ngrams(view, per_shard))
    return out


def merge_frequent_ngrams(parts: list[list[NGrams]], c_min: dict[int, float]) -> NGrams:
    """The union of every shard's blocks, per n (``frequent_ngrams``'s own merge)."""
    blocks = [b for part in parts for b in part]
    return {
        n: np.unique(np.concatenate([b[n] for b in blocks]), axis=0)
        if blocks
        else np.zeros((0, n), np.int64)
        for n in c_min
    }


def nonempty_shards(ix: Index) -> int:
    """Shards of ``ix`` with a non-empty suffix array (the ``S`` of ``frequent_ngrams``)."""
    return sum(1 for s in ix.shards if s.sa.shape[0])


class RunsHost:
    """An actor's suffix runs per ``cap`` (built once, kept for the calls that follow)."""

    def __init__(self, ix: Index) -> None:
        self.ix, self.runs = ix, dict[int, Any]()

    def call(self, cap: int, name: str, args: tuple[Any, ...]) -> Any:
        if cap not in self.runs:
            self.runs[cap] = self.ix.suffix_runs(cap)
        value = getattr(self.runs[cap], name)
        return value(*args) if callable(value) else value


class ServedRuns:
    """``SuffixRuns`` of a one-shard Ray-served index: each call goes to its actor."""

    def __init__(self, ray: Any, actor: Any, cap: int) -> None:
        from corpusmap.index.ngram_runs import SuffixRuns

        self._ray, self._actor, self._cap, self._cls = ray, actor, cap, SuffixRuns
        self.cap = cap

    def _remote(self, name: str, *args: Any) -> Any:
        return self._ray.get(self._actor.runs.remote(self._cap, name, args))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not hasattr(self._cls, name):
            raise AttributeError(name)
        if callable(getattr(self._cls, name)):  # a method: call it there
            return lambda *args: self._remote(name, *args)
        return self._remote(name)  # a property: its value


def check_one_shard(path: Any, n_shards: int) -> None:
    """The local ``SuffixRuns`` refusal, for a served index of several shards."""
    if n_shards != 1:
        raise CorpusmapError(
            f"{path}: n-gram runs need a one-shard index, not {n_shards} "
            "shards (< 2^31 bytes of tokens): classify the dump in parts"
        )
