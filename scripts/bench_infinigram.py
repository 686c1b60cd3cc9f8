"""corpusmap vs infini-gram's engine on the same infini-gram index folder, in one run.

Opens an existing infini-gram u16 folder (e.g. the ``infini`` folder that
``scripts/bench_index.py --keep`` leaves in its work folder) with corpusmap and with
``InfiniGramEngine`` and measures:

1. opening: ``open_index`` with a fresh cache folder (includes the one-time
   first-token table, found by search and saved in the cache), then again with the
   cache warm (the usual case);
2. count: ``--queries`` n-grams of 1..10 tokens cut from the corpus, engine ``count``
   in a Python loop vs one batched ``Index.count``; answers must be equal;
3. matching statistics: ``--ms-tokens`` tokens in sequences of 500 cut from the corpus
   with a random token changed every ~50; engine ``creativity`` vs
   ``Index.matching_statistics``; answers must be equal.

Run:  PYTHONPATH=. python scripts/bench_infinigram.py /tmp/bench_index/infini \
          --tokenizer ids:50000 [--queries 10000] [--ms-tokens 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np


def main() -> None:
    from infini_gram.engine import InfiniGramEngine

    from corpusmap.index.opening import open_index

    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--tokenizer", default="ids:50000")
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--ms-tokens", type=int, default=20_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        ix = open_index(args.folder, args.tokenizer, cache_dir=cache)
        ix.count([[1]])  # builds the first-token table (saved in the cache)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        ix = open_index(args.folder, args.tokenizer, cache_dir=cache)
        ix.count([[1]])
        warm = time.perf_counter() - t
    print(f"open: {warm:.3f} s with the cache warm; {cold:.3f} s the first time (table build)")
    eng = InfiniGramEngine(
        index_dir=args.folder, eos_token_id=65534, vocab_size=65535, version=4, token_dtype="u16"
    )
    rng = np.random.default_rng(0)
    n_tok = ix.n_tokens

    def cut(length: int) -> list[int]:
        while True:
            s = int(rng.integers(0, n_tok - length))
            ids = ix.shards[0].tokens[s : s + length].view("<u2").reshape(-1)
            if not np.any(ids == 0xFFFF):
                return [int(x) for x in ids]

    qs = [cut(int(rng.integers(1, 11))) for _ in range(args.queries)]
    ix.count(qs)  # compiles the kernels for this layout
    t = time.perf_counter()
    ours = ix.count(qs)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    theirs = [eng.count(q)["count"] for q in qs]
    t_eng = time.perf_counter() - t
    assert ours == theirs, "count answers differ"
    print(
        f"count: {1e6 * t_ours / len(qs):.2f} µs/query vs engine {1e6 * t_eng / len(qs):.1f} "
        f"µs/query: {t_eng / t_ours:.1f}x (answers equal)"
    )
    seqs = []
    for _ in range(max(1, args.ms_tokens // 500)):
        s = cut(500)
        for k in range(0, 500, 50):
            s[k + int(rng.integers(0, 50))] = int(rng.integers(0, 50_000))
        seqs.append(s)
    ix.matching_statistics(seqs)  # compiles the parallel kernel for this layout
    t = time.perf_counter()
    ms = ix.matching_statistics(seqs)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    rs = [eng.creativity(input_ids=s)["rs"] for s in seqs]
    t_eng = time.perf_counter() - t
    for m, r in zip(ms, rs, strict=True):
        assert m.tolist() == [r[i] - i for i in range(len(r))], "matching statistics differ"
    n = sum(len(s) for s in seqs)
    print(
        f"matching statistics: {n / t_ours:,.0f} tok/s vs engine {n / t_eng:,.0f} tok/s: "
        f"{t_eng / t_ours:.1f}x (answers equal)"
    )


if __name__ == "__main__":
    main()
