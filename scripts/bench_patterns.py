"""Benchmark: the pattern stage (the four classes) on a dump of a few thousand generations.

Builds (once, kept in ``--work``) a ``words`` index of the embedded corpus and a
dump of ``--gens`` outputs: half copy a corpus passage with a word changed every
~20 words, half are random corpus words; every row carries a true continuation.
Then times ``classify_patterns`` ``--rounds`` times into a fresh results folder
(no resume) and prints the best and median seconds and the generations index's
shard count. ``--g-shard-tokens`` forces the generations index into shards of
that many tokens (new code only). Run it under ``flock /work/wt/bench.lock`` and
note ``/proc/loadavg`` beside the number:

    flock /work/wt/bench.lock python scripts/bench_patterns.py --gens 4000
    flock /work/wt/bench.lock python scripts/bench_patterns.py --gens 4000 --g-shard-tokens 60000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

os.environ.setdefault("CORPUSMAP_PROGRESS", "0")


def make_dump(ix, n: int, length: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    words: list[str] = []
    outs, conts = [], []
    for g in range(n):
        doc = ix.document(int(rng.integers(0, ix.n_docs))).split()
        if not words:
            words = doc
        if g % 2 == 0 and len(doc) > length:
            o = int(rng.integers(0, len(doc) - length))
            seq = doc[o : o + length]
            for i in rng.integers(0, length, size=max(1, length // 20)):
                seq[int(i)] = words[int(rng.integers(0, len(words)))]
        else:
            seq = [doc[int(i)] for i in rng.integers(0, len(doc), size=length)] if doc else []
        words = doc or words
        outs.append(" ".join(seq))
        conts.append(" ".join(doc[:30]))
    ids = [f"g{i}" for i in range(n)]
    prompt_ids = [f"p{i // 4}" for i in range(n)]
    return pa.table({"gen_id": ids, "prompt_id": prompt_ids, "prompt": [""] * n,
                     "output": outs, "continuation": conts})  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/bench_patterns")
    ap.add_argument("--gens", type=int, default=4000)
    ap.add_argument("--length", type=int, default=80)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--g-shard-tokens", type=int, default=None)
    args = ap.parse_args()

    from corpusmap.index.build import build_index
    from corpusmap.index.opening import open_index
    from corpusmap.patterns import classify_patterns

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    ixp = work / "ix"
    if not (ixp / "manifest.json").is_file():
        build_index("embedded", ixp, tokenizer="words", minhash=False)
    ix = open_index(ixp)
    table = make_dump(ix, args.gens, args.length)
    kw = {} if args.g_shard_tokens is None else {"g_shard_tokens": args.g_shard_tokens}
    times, summary = [], {}
    for _ in range(args.rounds):
        out = work / "results"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        summary = classify_patterns(out, table, ix, **kw)
        times.append(time.perf_counter() - t0)
    g = open_index(work / "results" / "generations_index")
    print(json.dumps({
        "generations": args.gens, "generation_tokens": summary.get("generation_tokens"),
        "g_shards": len(g.shards), "best_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "rows": {c: v["rows"] for c, v in summary["classes"].items()},
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
