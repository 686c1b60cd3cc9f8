"""MinHash signatures and LSH bands, checked against exact Jaccard and against datasketch.

No index is built here (see ``test_minhash_index.py``): signatures are computed
from token arrays made in the test. The reference for every estimate is the
exact Jaccard of the shingle sets, computed with plain Python sets of tuples.
"""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from corpusmap.index.minhash.datasketch_compat import to_datasketch
from corpusmap.index.minhash.exact_jaccard import exact_jaccard
from corpusmap.index.minhash.lsh import WEIGHTS, band_buckets, optimal_bands
from corpusmap.index.minhash.signature import (
    EMPTY,
    estimated_jaccard,
    permutations,
    shingle_hashes,
    signatures_of,
)


def naive_jaccard(x: list[int], y: list[int], n: int) -> float:
    """Jaccard of the n-shingle sets; a doc shorter than n is one shingle of itself."""

    def shingles(t: list[int]) -> set[tuple[int, ...]]:
        if not t:
            return set()
        k = min(n, len(t))
        return {tuple(t[i : i + k]) for i in range(len(t) - k + 1)}

    a, b = shingles(x), shingles(y)
    return len(a & b) / len(a | b) if a | b else 0.0


def edited_pairs(n_pairs: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs (doc, doc with k random substitutions), k spread so Jaccard covers 0..1."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(n_pairs):
        x = rng.integers(0, 1_000_000, size=int(rng.integers(150, 400)))
        y = x.copy()
        k = int(rng.integers(0, 60))
        y[rng.choice(y.size, size=k, replace=False)] = rng.integers(0, 1_000_000, size=k)
        pairs.append((x, y))
    return pairs


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (16, 7), (256, 42)])
def test_permutations_are_datasketchs(scheme: str, num_perm: int, seed: int) -> None:
    a, b = permutations(num_perm, seed, scheme)
    ds = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations
    assert np.array_equal(a, np.asarray(ds[0], dtype=np.uint64))
    assert np.array_equal(b, np.asarray(ds[1], dtype=np.uint64))


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
def test_signature_equals_datasketch_fed_our_shingle_hashes(scheme: str) -> None:
    """datasketch's own update path, given our shingle hashes, ends in our signature."""
    rng = np.random.default_rng(1)
    docs = [rng.integers(0, 50_000, size=s) for s in (1, 3, 5, 6, 40, 700)]
    ours = signatures_of(docs, num_perm=128, shingle=5, seed=3, scheme=scheme)
    for doc, sig in zip(docs, ours, strict=True):
        m = MinHash(num_perm=128, seed=3, scheme=scheme, hashfunc=lambda h: h)
        m.update_batch(shingle_hashes(doc, 5))
        assert np.array_equal(m.hashvalues.astype(np.uint32), sig)
        assert np.array_equal(m.hashvalues, to_datasketch(sig, 3, 128, scheme).hashvalues)


def test_empty_and_short_documents() -> None:
    """Empty: datasketch's empty value. Shorter than the shingle: one shingle of itself."""
    empty, short, same_short, longer = signatures_of(
        [np.zeros(0, np.int64), np.array([4, 2]), np.array([4, 2]), np.array([4, 2, 9])]
    )
    assert np.all(empty == EMPTY) and to_datasketch(empty).is_empty()
    assert np.array_equal(empty, MinHash(num_perm=128).hashvalues.astype(np.uint32))
    assert estimated_jaccard(short, same_short) == 1.0
    assert estimated_jaccard(short, longer) < 0.1  # (4, 2) and (4, 2, 9) are different shingles
    assert shingle_hashes(np.array([4, 2]), 5).size == 1


def test_estimate_within_minhash_error_of_exact_jaccard() -> None:
    """|estimate - exact| <= 3 standard errors (sqrt(J(1-J)/k)) on ~all random pairs, unbiased."""
    pairs = edited_pairs(400)
    left = signatures_of([x for x, _ in pairs])
    right = signatures_of([y for _, y in pairs])
    est = estimated_jaccard(left, right)
    exact = np.array([naive_jaccard(x.tolist(), y.tolist(), 5) for x, y in pairs])
    assert exact.min() < 0.3 and exact.max() == 1.0  # the pairs cover the range
    sigma = np.sqrt(np.maximum(exact * (1 - exact), 0.01) / 128)
    outside = np.abs(est - exact) > 3 * sigma
    assert outside.mean() <= 0.01, (outside.sum(), est[outside], exact[outside])
    assert abs((est - exact).mean()) < 3 * sigma.mean() / np.sqrt(len(pairs))
    assert np.all(est[exact == 1.0] == 1.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 20), max_size=30),
    st.lists(st.integers(0, 20), max_size=30),
    st.integers(1, 6),
)
def test_exact_jaccard_matches_python_sets(x: list[int], y: list[int], n: int) -> None:
    assert exact_jaccard(np.array(x, np.int64), np.array(y, np.int64), n) == pytest.approx(
        naive_jaccard(x, y, n)
    )


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
@pytest.mark.parametrize("num_perm", [64, 128])
def test_band_layout_is_datasketchs(threshold: float, num_perm: int) -> None:
    from datasketch.lsh import _optimal_param

    b, r = optimal_bands(threshold, num_perm)
    assert (b, r) == _optimal_param(threshold, num_perm, *WEIGHTS)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=WEIGHTS)
    assert (b, r) == (lsh.b, lsh.r)
    assert lsh.hashranges == [(i * r, (i + 1) * r) for i in range(b)]
    assert optimal_bands(threshold, num_perm, (0.5, 0.5)) == _optimal_param(
        threshold, num_perm, 0.5, 0.5
    )


def test_buckets_equal_exactly_when_band_rows_equal() -> None:
    """Same bucket in band i <=> same values in rows [i*r, (i+1)*r) (MinHashLSH's rule)."""
    rng = np.random.default_rng(2)
    b, r = optimal_bands(0.8, 128)
    base = rng.integers(0, 2**32, size=128, dtype=np.uint64).astype(np.uint32)
    other = base.copy()
    other[3 * r + 1] ^= 1  # differs only inside band 3
    buckets = band_buckets(np.stack([base, other]), b, r)
    same = buckets[0] == buckets[1]
    assert not same[3] and same.sum() == b - 1


def test_lean_minhash_jaccard_agrees() -> None:
    pairs = edited_pairs(50, seed=5)
    left = signatures_of([x for x, _ in pairs], seed=9)
    right = signatures_of([y for _, y in pairs], seed=9)
    for s, t in zip(left, right, strict=True):
        lean_s, lean_t = to_datasketch(s, 9, 128), to_datasketch(t, 9, 128)
        assert isinstance(lean_s, LeanMinHash)
        assert lean_s.jaccard(lean_t) == estimated_jaccard(s, t)
