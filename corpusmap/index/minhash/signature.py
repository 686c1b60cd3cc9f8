"""MinHash signatures of token-id shingles, bit-compatible with datasketch.

How it works. A document is a sequence of token ids; its *shingles* are the
runs of ``n`` consecutive ids (a document shorter than ``n`` is one shingle of
all its ids; an empty one has none). Each shingle is hashed to 32 bits (a
64-bit multiply-xorshift hash of the ids, top half kept). MinHash then applies
``num_perm`` random permutations ``p_k`` to every shingle hash and keeps, per
``k``, the smallest value: two documents agree at ``k`` with probability equal
to the Jaccard similarity of their shingle sets, so the fraction of agreeing
positions estimates it (standard error ``sqrt(J(1-J)/num_perm)``).

The permutations are datasketch's, for the same seed and scheme:

* ``affine32`` (datasketch >= 2.0's default): ``h' = fmix32(h)``, then
  ``p_k(h) = a_k * h' + b_k mod 2^32`` with ``a_k`` odd;
* ``legacy`` (datasketch < 2.0): ``p_k(h) = ((a_k * h + b_k) mod 2^64) mod
  (2^61 - 1)``, truncated to 32 bits.

So ``datasketch.MinHash(num_perm, seed, scheme=..., hashfunc=lambda x: x)``
fed our ``shingle_hashes`` ends in exactly our signature, and a stored
signature becomes a ``LeanMinHash`` (``to_datasketch``) whose ``jaccard`` is
ours. Signatures are stored as uint32 in both schemes (legacy values fit).

The kernel runs in parallel over documents (numba threads). Per document it
hashes all shingles into a buffer, then for each permutation takes the min over
the buffer: that inner loop is a vectorised unsigned-min reduction.

What it leaves out: datasketch's default ``sha1_hash32`` of byte strings is not
used (we hash token ids, ~100x cheaper), so a datasketch MinHash built from the
raw text with its default hash function will not equal ours; use
``shingle_hashes`` as the values, as above.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np

from corpusmap.errors import CorpusmapError

SCHEMES = ("affine32", "legacy")
EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's empty value in both schemes: 2^32 - 1
_MERSENNE = np.uint64((1 << 61) - 1)
_M32 = np.uint64(0xFFFFFFFF)
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xBF58476D1CE4E5B9)
_K3 = np.uint64(0x94D049BB133111EB)


@lru_cache(maxsize=16)
def permutations(
    num_perm: int, seed: int, scheme: str = "affine32"
) -> tuple[np.ndarray, np.ndarray]:
    """The permutation parameters ``(a, b)`` datasketch draws for ``seed`` (uint64 arrays).

    Reproduces ``datasketch.MinHash._init_permutations`` draw for draw.
    """
    if scheme not in SCHEMES:
        raise CorpusmapError(f"unknown MinHash scheme {scheme!r}; use one of {', '.join(SCHEMES)}")
    if num_perm < 1:
        raise CorpusmapError("num_perm must be at least 1")
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        pairs = [
            (gen.randint(1, _MERSENNE, dtype=np.uint64), gen.randint(0, _MERSENNE, dtype=np.uint64))
            for _ in range(num_perm)
        ]
        ab = np.array(pairs, dtype=np.uint64).T
        a, b = ab[0].copy(), ab[1].copy()
    else:
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a, b = a.astype(np.uint64), b.astype(np.uint64)
    a.flags.writeable = b.flags.writeable = False  # cached: shared by every caller
    return a, b


@numba.njit(inline="always")
def _shingle_hash(tokens, i, k):  # type: ignore[no-untyped-def]
    """64-bit hash of tokens[i:i+k] (k folded in, so a short whole-doc shingle differs)."""
    h = np.uint64(k) * _K1
    for j in range(i, i + k):
        h = (h ^ np.uint64(tokens[j])) * _K2
        h ^= h >> np.uint64(29)
    h = (h ^ (h >> np.uint64(32))) * _K3
    return h ^ (h >> np.uint64(31))


@numba.njit(inline="always")
def _fmix32(h):  # type: ignore[no-untyped-def]
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & _M32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & _M32
    return h ^ (h >> np.uint64(16))


@numba.njit(cache=True)
def _hash_doc(tokens, start, length, n, legacy, buf):  # type: ignore[no-untyped-def]
    """Fill ``buf`` with the doc's shingle hashes (fmix32-ed unless legacy); return count."""
    if length == 0:
        return 0
    k = min(n, length)
    m = length - k + 1
    for i in range(m):
        h = _shingle_hash(tokens, start + i, k) >> np.uint64(32)
        buf[i] = np.uint32(h) if legacy else np.uint32(_fmix32(h))
    return m


@numba.njit(cache=True)
def _minhash_doc(buf, m, a32, b32, a, b, legacy, out):  # type: ignore[no-untyped-def]
    """out[k] = min over the m hashes in buf of permutation k (EMPTY when m == 0)."""
    for k in range(out.shape[0]):
        best = np.uint32(0xFFFFFFFF)
        if legacy:
            ak, bk = a[k], b[k]
            for i in range(m):
                v = (ak * np.uint64(buf[i]) + bk) % _MERSENNE
                v32 = np.uint32(v & _M32)
                if v32 < best:
                    best = v32
        else:
            ak32, bk32 = a32[k], b32[k]
            for i in range(m):
                v32 = np.uint32(ak32 * buf[i] + bk32)
                if v32 < best:
                    best = v32
        out[k] = best


@numba.njit(parallel=True, cache=True)
def _signatures(tokens, starts, lengths, n, a, b, legacy, n_chunks, out):  # type: ignore[no-untyped-def]
    a32 = a.astype(np.uint32)
    b32 = b.astype(np.uint32)
    n_docs = starts.shape[0]
    for c in numba.prange(n_chunks):
        lo = c * n_docs // n_chunks
        hi = (c + 1) * n_docs // n_chunks
        longest = 1
        for d in range(lo, hi):
            longest = max(longest, lengths[d])
        buf = np.empty(longest, dtype=np.uint32)
        for d in range(lo, hi):
            m = _hash_doc(tokens, starts[d], lengths[d], n, legacy, buf)
            _minhash_doc(buf, m, a32, b32, a, b, legacy, out[d])


def signatures(
    tokens: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    *,
    num_perm: int = 128,
    shingle: int = 5,
    seed: int = 1,
    scheme: str = "affine32",
) -> np.ndarray:
    """MinHash signatures of the documents ``tokens[starts[i] : starts[i] + lengths[i]]``.

    Args:
        tokens: token ids, 0 <= id < 2^32 (converted to uint32 unless they are already,
            so the kernel is compiled once).
        starts / lengths: where each document lies in ``tokens``.
        num_perm / shingle / seed / scheme: as in datasketch; shingle in tokens.

    Returns:
        uint32 array ``(n_docs, num_perm)``; empty documents get all ``EMPTY``.
    """
    if shingle < 1:
        raise CorpusmapError("shingle size must be at least 1 token")
    a, b = permutations(num_perm, seed, scheme)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    out = np.empty((starts.shape[0], num_perm), dtype=np.uint32)
    if starts.shape[0]:
        tok = np.ascontiguousarray(tokens, dtype=np.uint32)
        chunks = min(starts.shape[0], 8 * numba.get_num_threads())
        _signatures(tok, starts, lengths, shingle, a, b, scheme == "legacy", chunks, out)
    return out


def signatures_of(
    docs: list[np.ndarray],
    *,
    num_perm: int = 128,
    shingle: int = 5,
    seed: int = 1,
    scheme: str = "affine32",
) -> np.ndarray:
    """Signatures of a list of token-id arrays (concatenated, then one kernel call)."""
    lengths = np.array([len(d) for d in docs], dtype=np.int64)
    starts = np.zeros(len(docs), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    flat = (
        np.concatenate(docs, dtype=np.uint32, casting="unsafe") if docs else np.zeros(0, np.uint32)
    )
    return signatures(
        flat, starts, lengths, num_perm=num_perm, shingle=shingle, seed=seed, scheme=scheme
    )


@numba.njit(cache=True)
def _raw_hashes(tokens, n, out):  # type: ignore[no-untyped-def]
    k = min(n, tokens.shape[0])
    for i in range(out.shape[0]):
        out[i] = np.uint32(_shingle_hash(tokens, i, k) >> np.uint64(32))


def shingle_hashes(tokens: np.ndarray, shingle: int = 5) -> np.ndarray:
    """The 32-bit hash of every shingle of one document, in order (uint32).

    These are the values to feed datasketch for an identical signature::

        m = MinHash(num_perm, seed=seed, hashfunc=lambda h: h)
        m.update_batch(shingle_hashes(tokens, shingle))
    """
    tok = np.ascontiguousarray(tokens, dtype=np.int64)
    m = 0 if tok.shape[0] == 0 else tok.shape[0] - min(shingle, tok.shape[0]) + 1
    out = np.empty(m, dtype=np.uint32)
    _raw_hashes(tok, shingle, out)
    return out


def estimated_jaccard(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fraction of equal positions between signature rows (broadcasts over rows)."""
    return np.count_nonzero(x == y, axis=-1) / x.shape[-1]
