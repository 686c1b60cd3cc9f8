"""``verify_infinigram``: what can be checked of an infini-gram folder without checksums.

infini-gram writes no checksums, so this checks structure and a sample: each
shard's file sizes agree (tokens, pointer width, uint64 offsets; done on opening),
document offsets start at 0, increase, fall on token boundaries and point at a
separator, and a random sample of adjacent suffix-array pairs is in the folder's
byte-wise order (compared through ``layout.key`` up to ``depth`` tokens), each entry
a valid token position. Problems are listed, not raised.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from corpusmap.index.layout import key, position, token_ids


@numba.njit(cache=True)
def _pairs_out_of_order(tokens, sa, idx, depth):  # type: ignore[no-untyped-def]
    """Sampled pairs ``(sa[i], sa[i + 1])`` out of order or pointing past the tokens."""
    n = tokens.shape[0]
    bad = 0
    for j in range(idx.shape[0]):
        a, b = position(sa, tokens, idx[j]), position(sa, tokens, idx[j] + 1)
        if a >= n or b >= n or a == b:
            bad += 1
            continue
        for k in range(depth):
            ta = key(tokens, a + k) if a + k < n else np.int64(-1)
            tb = key(tokens, b + k) if b + k < n else np.int64(-1)
            if ta < tb:
                break
            if ta > tb or ta == -1:  # greater, or equal up to a's end (a must be shorter)
                bad += 1
                break
    return bad


def verify_infinigram(ix: Any, sample: int = 100_000, depth: int = 1000) -> dict[str, Any]:
    """Check an opened ``InfiniGramIndex``; returns ``{"ok", "problems", "checked"}``."""
    problems: list[str] = []
    pairs = files = 0
    rng = np.random.default_rng(0)
    for s in ix.shards:
        files += len(s.files())
        off = s.offsets.astype(np.int64)
        where = f"{s.folder / ('offset' + s.suffix)}"
        if off.size and (off[0] != 0 or np.any(np.diff(off) <= 0) or np.any(off % s.w)):
            problems.append(f"{where}: offsets do not start at 0, increase on token boundaries")
        elif off.size and off[-1] // s.w >= s.n_tokens:
            problems.append(f"{where}: an offset points past the tokens")
        else:
            pick = off[rng.integers(0, off.size, min(off.size, sample))] // s.w if off.size else off
            seps = np.array([token_ids(s.tokens, int(p), int(p) + 1)[0] for p in pick[:1000]])
            if np.any(seps != ix.separator):
                problems.append(f"{where}: a document offset does not point at a separator")
        n = int(s.sa.shape[0])
        if n > 1:
            idx = rng.integers(0, n - 1, min(sample, n - 1)).astype(np.int64)
            bad = int(_pairs_out_of_order(s.tokens, s.sa, idx, depth))
            pairs += idx.size
            if bad:
                problems.append(
                    f"{s.folder / ('table' + s.suffix)}: {bad} of {idx.size} sampled suffix-array "
                    "pairs out of order or out of range; the folder is damaged"
                )
    checked = {"files": files, "sa_pairs": pairs}
    return {"ok": not problems, "problems": problems, "checked": checked}
