"""Suffix-array construction for one shard, with a native sorter.

libdivsufsort (via pydivsufsort) sorts the suffixes of a *byte* string. To sort
suffixes of a u16/u32 token string we use the infini-gram trick: write every
token big-endian, so comparing byte strings compares token strings
lexicographically, sort all byte suffixes, then keep only those starting on a
token boundary. We also drop suffixes that start on a document separator: no
query ever starts with one, and leaving them out makes the index smaller.

Memory: the big-endian copy (w bytes/token) plus libdivsufsort's int32 output
(4w bytes/token) is all there is — about 10 bytes/token for u16. The filtering is
an in-place compaction of that output (a compiled loop), not a boolean mask,
which would double the peak (stock ``divsufsort(uint16_array)`` needs ~21 B/token).
The compacted prefix is written out as the u32 suffix array.
"""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np

from corpusmap.index.format import MAX_SHARD_BYTES


@numba.njit(cache=True, nogil=True)
def _compact(sa: np.ndarray, be: np.ndarray, width: int, sep_byte: int) -> int:
    """Keep token-aligned, non-separator suffixes at the front of ``sa``; return how many.

    ``sa`` holds byte offsets; kept entries become token offsets. A separator token
    is ``width`` bytes of ``sep_byte`` (0xFF, the largest byte), so every byte suffix
    that starts with it sorts after all others: they are the last ``tail`` entries,
    counted here by one sequential scan of ``be`` instead of a random read of ``be``
    per suffix (a cache miss each: ~1.7 s of a 64M-token shard). Those entries are
    either separators or unaligned, so dropping the tail and keeping the aligned rest
    keeps exactly the non-separator token suffixes, in order.
    """
    tail = 0
    run = 0
    for i in range(be.shape[0]):
        run = run + 1 if be[i] == sep_byte else 0
        if run >= width:
            tail += 1
    end = sa.shape[0] - tail
    if width == 1:  # byte offsets are token offsets, all aligned
        return end
    kept = 0
    for i in range(end):
        off = sa[i]
        if off % width == 0:
            sa[kept] = off // width
            kept += 1
    return kept


def omp_threads(n: int) -> None:
    """Give libdivsufsort ``n`` OpenMP threads for sorts started from the calling thread.

    pydivsufsort's wheels bundle their own libgomp, which takes every core by default;
    where several sorts run at once (one per pool thread) that oversubscribes the
    cores. ``omp_set_num_threads`` is per calling thread. A build of pydivsufsort
    without a bundled libgomp is left as it is.
    """
    import ctypes

    import pydivsufsort

    libs = Path(pydivsufsort.__file__).parent.parent / "pydivsufsort.libs"
    for lib in sorted(libs.glob("libgomp*.so*")):
        ctypes.CDLL(str(lib)).omp_set_num_threads(int(n))


def build_suffix_array(tokens_path: Path, width: str, sa_path: Path) -> int:
    """Sort the suffixes of one shard's ``tokens.bin`` into ``sa.bin``.

    Args:
        tokens_path: the shard's little-endian tokens.
        width: ``u8`` | ``u16`` | ``u32``.
        sa_path: where the u32 suffix array is written.

    Returns:
        The number of suffixes stored (tokens minus separators).
    """
    from pydivsufsort import divsufsort

    itemsize = {"u8": 1, "u16": 2, "u32": 4}[width]
    mm = np.memmap(tokens_path, dtype=f"<u{itemsize}", mode="r")
    if mm.size * itemsize > MAX_SHARD_BYTES:
        raise ValueError(f"{tokens_path}: shard too large for a 32-bit suffix array")
    be = (
        np.array(mm, dtype=np.uint8) if itemsize == 1 else mm.astype(f">u{itemsize}").view(np.uint8)
    )
    del mm
    sa = divsufsort(be)
    kept = _compact(sa, be, itemsize, 0xFF)
    del be
    with open(sa_path, "wb") as f:
        sa[:kept].view(np.uint32).tofile(f)
    return int(kept)
