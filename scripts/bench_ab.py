"""Index query speed of two corpusmap trees on one index, alternating: a before/after check.

Each round runs every tree in a fresh process (``PYTHONPATH`` set to the tree), in
turn, on the same index and the same queries: 100 matching-statistics sequences of 200
tokens taken from the index, and 10,000 random 3-token counts, one thread, best of 5.
Rounds alternate the trees, so load that drifts during the run hits both alike.

    git worktree add /tmp/before HEAD~5
    .venv/bin/python scripts/bench_ab.py --index /tmp/bench_index/ours_1shard \\
        --trees /tmp/before . --rounds 2

What it leaves out: builds (``bench_index.py``) and the peer (``bench_index.py`` prints
infini-gram's figures in the same run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import sys, time
import numpy as np
import numba
from corpusmap.index.index import Index
ix = Index(sys.argv[1])
rng = np.random.default_rng(0)
s = ix.shards[0]
n = s.tokens.shape[0]
seqs = []
for _ in range(100):
    a = int(rng.integers(0, n - 300))
    seqs.append(np.asarray(s.tokens[a : a + 200], dtype=np.int64))
vocab = int(np.asarray(s.tokens[: 1 << 20]).max())
qs = [list(map(int, rng.integers(0, vocab, 3))) for _ in range(10000)]
ix.matching_statistics(seqs[:2]); ix.count(qs[:10])
numba.set_num_threads(1)
def best(f, r=5):
    b = 1e9
    for _ in range(r):
        t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)
    return b
ms = best(lambda: ix.matching_statistics(seqs))
c = best(lambda: ix.count(qs))
print(f"{20000 / ms:.0f} {c / len(qs) * 1e6:.3f}")
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", required=True, help="an index folder both trees can open")
    ap.add_argument("--trees", nargs=2, required=True, metavar=("BEFORE", "AFTER"))
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    print(f"{'round':>5}  {'tree':<30} {'match stats tok/s':>18} {'count us/query':>15}")
    for r in range(1, args.rounds + 1):
        for tree in args.trees:
            env = {"PYTHONPATH": str(Path(tree).resolve()), "CORPUSMAP_PROGRESS": "0"}
            out = subprocess.run(
                [sys.executable, "-c", CHILD, args.index],
                capture_output=True,
                text=True,
                env={**os.environ, **env},
                check=True,
            ).stdout.split()
            print(f"{r:>5}  {tree:<30} {float(out[0]):>18,.0f} {float(out[1]):>15.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
