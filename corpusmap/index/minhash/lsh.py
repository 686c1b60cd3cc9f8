"""LSH banding: split each signature into ``b`` bands of ``r`` rows and hash each band.

How it works. Two documents whose signatures agree on all ``r`` rows of some
band land in the same bucket of that band and become candidates. For Jaccard
``J`` that happens with probability ``1 - (1 - J^r)^b``, an S-curve whose step
sits near the threshold. ``b`` and ``r`` are what ``datasketch.MinHashLSH(threshold,
num_perm, weights=WEIGHTS)`` picks (``datasketch.lsh._optimal_param``), and band
``i`` covers rows ``[i*r, (i+1)*r)`` as in ``MinHashLSH``.

The weights favour recall (0.05 on false positives, 0.95 on false negatives):
every candidate is verified against its stored signature, so a false positive
costs a comparison while a false negative is a missed regurgitation. At
threshold 0.8 and 128 permutations this gives 16 bands of 8 rows: a pair at
``J = 0.8`` becomes a candidate with probability 0.95, at 0.85 with 0.994
(datasketch's default equal weights give 9 x 13: 0.40 and 0.69).

A bucket is a 64-bit hash of the band's ``r`` values, stored as int64 so DuckDB
joins on it natively.

What it leaves out: the band layout is fixed when the index is built; a query
at a threshold below the build threshold still uses it, so recall for pairs
well below the build threshold drops along the S-curve.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np
import pyarrow as pa

WEIGHTS = (0.05, 0.95)  # (false positive, false negative), as datasketch's `weights`
BANDS_SCHEMA = pa.schema([("band", pa.int32()), ("bucket", pa.int64()), ("doc_id", pa.int64())])


@lru_cache(maxsize=64)
def optimal_bands(
    threshold: float, num_perm: int, weights: tuple[float, float] = WEIGHTS
) -> tuple[int, int]:
    """``(b, r)`` as ``datasketch.MinHashLSH(threshold, num_perm, weights=weights)`` picks them."""
    from datasketch.lsh import _optimal_param

    if not 0.0 < threshold < 1.0:
        from corpusmap.errors import CorpusmapError

        raise CorpusmapError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
    b, r = _optimal_param(threshold, num_perm, float(weights[0]), float(weights[1]))
    return int(b), int(r)


@numba.njit(parallel=True, cache=True)
def _buckets(sigs, b, r, out):  # type: ignore[no-untyped-def]
    for d in numba.prange(sigs.shape[0]):
        for band in range(b):
            h = np.uint64(0x9E3779B97F4A7C15) * np.uint64(r + 1)
            for j in range(band * r, band * r + r):
                h = (h ^ np.uint64(sigs[d, j])) * np.uint64(0xFF51AFD7ED558CCD)
                h ^= h >> np.uint64(32)
            h = (h ^ (h >> np.uint64(29))) * np.uint64(0xC4CEB9FE1A85EC53)
            out[d, band] = np.int64(h ^ (h >> np.uint64(32)))


def band_buckets(sigs: np.ndarray, b: int, r: int) -> np.ndarray:
    """int64 ``(n, b)``: the bucket of each band of each signature row."""
    out = np.empty((sigs.shape[0], b), dtype=np.int64)
    if sigs.shape[0]:
        _buckets(np.ascontiguousarray(sigs, dtype=np.uint32), b, r, out)
    return out


def bands_table(ids: np.ndarray, sigs: np.ndarray, b: int, r: int, keep: np.ndarray) -> pa.Table:
    """Rows ``(band, bucket, doc_id)`` for the signatures where ``keep`` is true.

    Args:
        ids: one id per signature row (doc_id, or query number at query time).
        sigs: uint32 signatures ``(n, num_perm)``.
        b / r: bands and rows per band.
        keep: rows to band (empty documents are left out: they have no shingles).
    """
    buckets = band_buckets(sigs[keep], b, r)
    n = buckets.shape[0]
    return pa.table(
        {
            "band": pa.array(np.tile(np.arange(b, dtype=np.int32), n)),
            "bucket": pa.array(buckets.reshape(-1)),
            "doc_id": pa.array(np.repeat(np.asarray(ids, dtype=np.int64)[keep], b)),
        },
        schema=BANDS_SCHEMA,
    )
