"""``build_suffix_array`` against a naive sort of token suffixes.

The compaction drops the tail of byte suffixes that start with a separator's
bytes instead of reading each suffix's first token, so the inputs here are full of
tokens that share 0xFF bytes with the separator (0x12FF, 0xFF12, 0xFFFE, runs of
separators, a separator at the end) where a wrong tail count would show.
"""

from __future__ import annotations

import numpy as np
import pytest

from corpusmap.index.sort import build_suffix_array
from corpusmap.tokenizer.spec import separator_id


def _naive(tokens: list[int], sep: int) -> list[int]:
    starts = [i for i, t in enumerate(tokens) if t != sep]
    return sorted(starts, key=lambda i: tokens[i:])


@pytest.mark.parametrize("width", ["u8", "u16", "u32"])
@pytest.mark.parametrize("seed", range(6))
def test_suffix_array_equals_naive_sort(tmp_path, width, seed) -> None:
    itemsize = {"u8": 1, "u16": 2, "u32": 4}[width]
    sep = separator_id(width)
    top = (1 << (8 * itemsize)) - 1
    rng = np.random.default_rng(seed)
    alphabet = [0, 1, 0x12, 0xFE, sep, top - 1, top >> 8, (top >> 8) << 8, 0x7F]
    alphabet = sorted({a & top for a in alphabet})
    n = int(rng.integers(1, 400))
    tokens = rng.choice(alphabet, size=n).tolist()
    if seed % 2:
        tokens.append(sep)  # a shard always ends with a separator
    path = tmp_path / "tokens.bin"
    np.asarray(tokens, dtype=f"<u{itemsize}").tofile(path)
    kept = build_suffix_array(path, width, tmp_path / "sa.bin")
    sa = np.fromfile(tmp_path / "sa.bin", dtype=np.uint32).tolist()
    assert kept == len(sa)
    assert sa == _naive(tokens, sep)
