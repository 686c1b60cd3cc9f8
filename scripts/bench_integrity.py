"""What the integrity checks cost: open, first and later queries, documents, verify, build.

Builds (or reuses) a one-shard index over the synthetic corpus of ``bench_index.py``
(u16 ids, Zipf-like, log-normal documents), then measures, each in a fresh Python
process so nothing is remembered between runs:

1. open: ``open_index`` (sizes, sha256 of ``docs.parquet`` and ``checksums.bin``);
2. first query: a batch of ``--queries`` counts, split into verifying every block of
   ``tokens.bin`` and ``sa.bin`` and the count itself; against the same first batch
   with the checks skipped (kernels on the raw arrays) -- the difference is the
   price of the checks;
3. later query: a second batch in the same process (blocks remembered);
4. a document: ``document(doc_id)`` verifies only its blocks;
5. ``index verify`` (block sums + sampled order) against sha256 of the same files
   (what verify computed before block sums);
6. build overhead: ``write_checksums`` (sha256 + xxh3 in one pass) against sha256 alone.

Steps 1-4 run twice: with the files in the page cache (warm) and after
``posix_fadvise(DONTNEED)`` dropped their pages (cold: read from disk).

Run: ``PYTHONPATH=. python scripts/bench_integrity.py [--tokens 200_000_000]
[--workdir /tmp/bench_integrity] [--queries 1000]``; prints JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

CHILD = r"""
import json, sys, time
import numpy as np
t0 = time.perf_counter()
from corpusmap.index.opening import open_index
from corpusmap.index import kernels as K
from corpusmap.index.prefix_table import build_table
mode, path, nq = sys.argv[1], sys.argv[2], int(sys.argv[3])
t_import = time.perf_counter() - t0
rng = np.random.default_rng(1)
t = time.perf_counter(); ix = open_index(path); t_open = time.perf_counter() - t
s = ix.shards[0]
flat_items = []
for _ in range(nq):  # n-grams copied from the corpus, lengths 1..10
    n = int(rng.integers(1, 11)); p = int(rng.integers(0, s._tokens.size - n))
    flat_items.append(np.asarray(s._tokens[p:p + n], dtype=np.int64))
from corpusmap.tokenizer.batch import TokenBatch
batch = TokenBatch.from_items(flat_items)
out = {"mode": mode, "open_s": t_open}
if mode == "checked":
    t = time.perf_counter(); s.blocks.ensure_all("tokens.bin"); s.blocks.ensure_all("sa.bin")
    out["verify_all_blocks_s"] = time.perf_counter() - t
    t = time.perf_counter(); a = ix.count(batch)
    out["first_batch_after_verify_s"] = time.perf_counter() - t
    t = time.perf_counter(); b = ix.count(batch); out["second_batch_s"] = time.perf_counter() - t
    assert (a == b).all()
    out["total_first_query_s"] = out["verify_all_blocks_s"] + out["first_batch_after_verify_s"]
elif mode == "unchecked":
    t = time.perf_counter()
    table = build_table(s._tokens, int(s._sa.shape[0]), ix.separator)
    res = np.zeros(len(batch), dtype=np.int64)
    K.count_batch(s._tokens, s._sa, batch.flat, batch.offsets, res, table)
    out["first_batch_unchecked_s"] = time.perf_counter() - t
    t = time.perf_counter()
    res2 = np.zeros(len(batch), dtype=np.int64)
    K.count_batch(s._tokens, s._sa, batch.flat, batch.offsets, res2, table)
    out["second_batch_unchecked_s"] = time.perf_counter() - t
elif mode == "document":
    d = ix.n_docs // 2
    t = time.perf_counter(); ix.document_tokens(d); out["document_s"] = time.perf_counter() - t
    v = s.blocks.verified["tokens.bin"]
    out["blocks_verified"] = f"{int(v.sum())} of {v.size}"
print(json.dumps(out))
"""


def drop_cache(folder: Path) -> None:
    """Evict the index files' pages from the page cache (no root needed)."""
    for f in folder.rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def child(mode: str, index: Path, queries: int) -> dict:
    res = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(index), str(queries)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=200_000_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench_integrity"))
    ap.add_argument("--queries", type=int, default=1000)
    args = ap.parse_args()
    from bench_index import make_corpus

    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "corpus" / "data.u16").is_file():
        print(json.dumps({"corpus": make_corpus(work, args.tokens)}), flush=True)
    index = work / "idx"
    if not (index / "manifest.json").is_file():
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "corpusmap", "index", "build", str(work / "corpus/data.u16"),
             "--out", str(index), "--tokenizer", "ids:65000", "--token-dtype", "u16",
             "--eod-id", "65535", "--no-minhash", "--workers", "2", "--force"],
            check=True,
        )  # fmt: skip
        print(json.dumps({"build_s": time.perf_counter() - t}), flush=True)
    shard = index / "shard-000"
    sizes = {f.name: f.stat().st_size for f in shard.iterdir()}
    print(json.dumps({"files": sizes}), flush=True)
    for cache in ("warm", "cold"):
        for mode in ("unchecked", "checked", "document"):
            if cache == "cold":
                drop_cache(index)
            else:
                child(mode, index, args.queries)  # warm the page cache
            print(json.dumps({"cache": cache, **child(mode, index, args.queries)}), flush=True)
    from corpusmap.index.format import sha256_file
    from corpusmap.index.integrity import hash_file
    from corpusmap.index.verify import verify_index

    t = time.perf_counter()
    res = verify_index(index)
    t_verify = time.perf_counter() - t
    t = time.perf_counter()
    for name in ("tokens.bin", "sa.bin", "docs.parquet"):
        sha256_file(shard / name)
    t_sha = time.perf_counter() - t
    t = time.perf_counter()
    for name in ("tokens.bin", "sa.bin"):
        hash_file(shard / name, 1 << 20)
    t_both = time.perf_counter() - t
    t = time.perf_counter()
    for name in ("tokens.bin", "sa.bin"):
        sha256_file(shard / name)
    t_sha_big = time.perf_counter() - t
    print(json.dumps({
        "verify_s": t_verify, "verify_ok": res["ok"], "sha256_all_files_s": t_sha,
        "build_sha256_plus_blocks_s": t_both, "build_sha256_only_s": t_sha_big,
    }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
