"""``TokenBatch`` operations against plain Python list references (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from corpusmap.tokenizer.batch import TokenBatch

seqs = st.lists(st.lists(st.integers(0, 5), max_size=12), max_size=8)


def _naive_count(hay: list[int], needle: list[int]) -> int:
    m = len(needle)
    return sum(hay[i : i + m] == needle for i in range(len(hay) - m + 1))


@given(seqs)
def test_round_trip_and_views(items: list[list[int]]) -> None:
    b = TokenBatch.from_items(items)
    assert len(b) == len(items)
    assert [x.tolist() for x in b] == items
    assert b.lengths.tolist() == [len(x) for x in items]
    assert b.item_of_token.tolist() == [k for k, x in enumerate(items) for _ in x]
    values = np.arange(b.flat.size)
    assert [v.tolist() for v in b.split(values)] == [
        list(range(b.offsets[k], b.offsets[k + 1])) for k in range(len(items))
    ]
    assert b.per_item_max(values).tolist() == [
        int(b.offsets[k + 1] - 1) if x else 0 for k, x in enumerate(items)
    ]


@given(seqs, seqs)
def test_join_take_slice_concat(a: list[list[int]], extra: list[list[int]]) -> None:
    b = [extra[k % len(extra)] if extra else [] for k in range(len(a))]
    ba, bb = TokenBatch.from_items(a), TokenBatch.from_items(b)
    assert [x.tolist() for x in ba.join(bb)] == [x + y for x, y in zip(a, b, strict=True)]
    order = list(range(len(a)))[::-1]
    assert [x.tolist() for x in ba.take(order)] == [a[k] for k in order]
    assert [x.tolist() for x in ba.slice(1, 3)] == a[1:3]
    both = TokenBatch.concat([ba, bb])
    assert [x.tolist() for x in both] == a + b


@settings(max_examples=60, deadline=None)  # the first call compiles the scan kernels
@given(seqs, st.lists(st.integers(0, 5), min_size=1, max_size=3))
def test_counting_by_scan(items: list[list[int]], needle: list[int]) -> None:
    b = TokenBatch.from_items(items)
    assert b.count_in(np.array(needle)).tolist() == [_naive_count(x, needle) for x in items]
    if items:
        queries = TokenBatch.from_items([needle] * len(items))
        hay_of = np.arange(len(items))[::-1].copy()
        want = [_naive_count(items[h], needle) for h in hay_of]
        assert queries.count_each_in(b, hay_of).tolist() == want


def test_spans_and_clipping() -> None:
    b = TokenBatch.from_items([[1, 2, 3, 4], [5, 6]])
    spans = b.spans(np.array([1, 4]), np.array([2, 2]))
    assert [x.tolist() for x in spans] == [[2, 3], [5, 6]]
    clipped = TokenBatch.from_items([[1, -1, 9, 3]]).clipped(4, 7)
    assert clipped.flat.tolist() == [1, 7, 7, 3]
    assert b.clipped(10, 0) is b  # nothing to map: no copy
