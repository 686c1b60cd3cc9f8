"""Stored signatures as datasketch objects, so datasketch's own tools work on them.

A signature row from ``signatures.parquet`` plus the index's ``seed`` and
``scheme`` (in ``minhash.json``) is exactly a datasketch ``LeanMinHash``: same
permutations for the seed, same empty value, so ``jaccard`` agrees with ours and
the objects can go into ``MinHashLSH``, ``MinHashLSHForest`` and friends.

What it leaves out: datasketch before 2.0 knows only the ``legacy`` scheme; an
index built with the default ``affine32`` needs datasketch >= 2.0 here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError


def to_datasketch(
    hashvalues: np.ndarray, seed: int = 1, num_perm: int | None = None, scheme: str = "affine32"
) -> Any:
    """A ``datasketch.LeanMinHash`` holding one stored signature.

    Args:
        hashvalues: one uint32 signature row.
        seed: the index's MinHash seed.
        num_perm: expected length (checked when given).
        scheme: the index's permutation scheme (``affine32`` or ``legacy``).
    """
    from datasketch import LeanMinHash

    values = np.asarray(hashvalues)
    if num_perm is not None and values.shape != (num_perm,):
        raise CorpusmapError(f"signature has shape {values.shape}, expected ({num_perm},)")
    try:
        return LeanMinHash(seed=seed, hashvalues=values.astype(np.uint64), scheme=scheme)
    except TypeError:  # datasketch < 2.0: no schemes, legacy only
        if scheme != "legacy":
            raise CorpusmapError(
                f"datasketch >= 2.0 is needed for scheme {scheme!r}; `pip install -U datasketch`"
            ) from None
        return LeanMinHash(seed=seed, hashvalues=values.astype(np.uint64))
