"""Measure corpusmap on Ray against local runs, on one machine.

1. Ray's overhead: ``build_index(ray="local")`` vs the local build with the same
   ``--shard-tokens`` (same shard count, same files), with Ray's start timed (what
   ``--ray local`` costs) and with Ray already running (what joining a cluster costs);
2. default sharding (2 x cores + 1 shards) vs the one-shard build of the same corpus,
   and what its extra shards cost a batched ``count`` of 20,000 8-grams;
3. query fan-out: a ``count`` of one n-gram through ``open_index(ray="local")``
   (actors) vs the local ``Index``; and per-shard figures for the README's
   1T-token estimate (sort seconds per shard, bytes on disk per token).

Usage: python scripts/bench_ray.py [--tokens 128000000] [--shard-tokens 64000000]
Prints one JSON object; each build's ``phases`` (from the manifest's ``build_phases``)
splits its seconds: ``read`` (until every document was read; a local build sorts
full shards meanwhile), then ``sorts_after_read`` (local) or ``shards_after_read``
(Ray), and Ray's ``ray_start`` / ``ray_stop``. The corpus is random words (bytes
tokenizer) written as JSONL under --work (default a temp folder), removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("CORPUSMAP_PROGRESS", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from corpusmap.index.build import build_index
from corpusmap.index.index import Index
from corpusmap.index.opening import open_index


def write_corpus(folder: Path, tokens: int, files: int = 8) -> None:
    rng = random.Random(0)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        for _ in range(5000)
    ]
    per_file = tokens // files
    folder.mkdir(parents=True)
    for f in range(files):
        with open(folder / f"part{f}.jsonl", "w", encoding="utf-8") as fh:
            n = 0
            while n < per_file:
                text = " ".join(rng.choices(words, k=rng.randint(50, 400)))
                fh.write(json.dumps({"text": text}) + "\n")
                n += len(text) + 1


def timed_build(src: Path, out: Path, **kw) -> dict:
    t0 = time.perf_counter()
    build_index([str(src)], out, minhash=False, **kw)
    seconds = time.perf_counter() - t0
    m = json.loads((out / "manifest.json").read_text())
    return {
        "seconds": round(seconds, 2),
        "n_shards": m["n_shards"],
        "n_tokens": m["n_tokens"],
        "sort_seconds": [s["sort_seconds"] for s in m["shards"]],
        "bytes_on_disk": sum(f.stat().st_size for f in out.rglob("*") if f.is_file()),
        "sums": [s["files"] for s in m["shards"]],
        "sharding": m.get("sharding"),
        "phases": m.get("build_phases"),
    }


def query_latency(ix: Index, n: int = 50) -> float:
    rng = random.Random(1)
    docs = [ix.document_tokens(rng.randrange(ix.n_docs)) for _ in range(n)]
    queries = [d[: min(8, len(d))].tolist() for d in docs]
    ix.count(queries[:2])  # warm up (compilation, actors)
    t0 = time.perf_counter()
    for q in queries:
        ix.count(q)
    return (time.perf_counter() - t0) / n * 1e3


def batch_count_us(ix: Index, n: int = 20_000) -> float:
    """Microseconds per query of one batched ``count`` of ``n`` 8-token n-grams (best of 3)."""
    rng = random.Random(2)
    docs = [ix.document_tokens(rng.randrange(ix.n_docs)) for _ in range(200)]
    queries = []
    for _ in range(n):
        d = docs[rng.randrange(len(docs))]
        i = rng.randrange(max(1, len(d) - 8))
        queries.append(d[i : i + 8].tolist())
    ix.count(queries[:100])  # warm up
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        ix.count(queries)
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=128_000_000)
    ap.add_argument("--shard-tokens", type=int, default=64_000_000)
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="bench_ray_"))
    src = work / "src"
    res: dict = {"cores": os.cpu_count(), "tokens_requested": args.tokens}
    try:
        write_corpus(src, args.tokens)
        same = {"shard_tokens": args.shard_tokens, "workers": os.cpu_count()}
        res["local_same_shards"] = timed_build(src, work / "local", **same)
        res["ray_same_shards"] = timed_build(src, work / "ray", ray="local", **same)
        res["ray_over_local"] = round(
            res["ray_same_shards"]["seconds"] / res["local_same_shards"]["seconds"], 3
        )
        res["identical_files"] = res["ray_same_shards"]["sums"] == res["local_same_shards"]["sums"]
        # what a cluster user gets (--ray auto joins a running Ray): the start is not timed
        from corpusmap import ray_runtime

        with ray_runtime.session("local"):
            res["ray_warm_same_shards"] = timed_build(src, work / "ray_warm", ray="local", **same)
        res["ray_warm_over_local"] = round(
            res["ray_warm_same_shards"]["seconds"] / res["local_same_shards"]["seconds"], 3
        )
        res["one_shard"] = timed_build(src, work / "one", shard_tokens=1 << 28)
        res["default_sharding"] = timed_build(src, work / "default")
        res["default_speedup"] = round(
            res["one_shard"]["seconds"] / res["default_sharding"]["seconds"], 3
        )
        res["count_us_batched_one_shard"] = round(batch_count_us(Index(work / "one")), 3)
        res["count_us_batched_default"] = round(batch_count_us(Index(work / "default")), 3)
        local = Index(work / "local")
        served = open_index(work / "local", ray="local")
        res["count_ms_local"] = round(query_latency(local), 3)
        res["count_ms_ray_served"] = round(query_latency(served), 3)
        served.close()  # type: ignore[attr-defined]
        keys = ("local_same_shards", "ray_same_shards", "ray_warm_same_shards", "one_shard",
                "default_sharding")  # fmt: skip
        for key in keys:
            res[key].pop("sums")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
