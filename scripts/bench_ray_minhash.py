"""Measure the MinHash step of a Ray build against the local one, on one machine.

Builds an index of ``--tokens`` bytes-tokenizer tokens (random words, the corpus
of ``bench_ray.py``) in shards of ``--shard-tokens``, without MinHash, then times
``build_minhash`` over its shards three ways, rounds alternating:

* ``local``: signed in this process on ``--workers`` numba threads;
* ``ray_cold``: ``ray="local"``, Ray started inside the call (what ``build_index``
  does today when it is given ``ray="local"``);
* ``ray_warm``: the same with Ray already running (a long-lived cluster).

Every run's three files must equal the local run's bytes. Prints one JSON object
(best of ``--rounds`` per way, all rounds listed). Usage:
``PYTHONPATH=. python scripts/bench_ray_minhash.py [--tokens 20000000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("CORPUSMAP_PROGRESS", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from corpusmap.index.build import build_index
from corpusmap.index.index import Index
from corpusmap.index.minhash.build import build_minhash
from corpusmap.index.minhash.store import BANDS, MINHASH_DIR, RECORD, SIGNATURES
from scripts.bench_ray import write_corpus


def timed(ix: Index, workers: int, ray: str | None) -> tuple[float, dict[str, bytes]]:
    out = ix.path / MINHASH_DIR
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    build_minhash(ix.path, ix.tokenizer, ix.width, ix.manifest["shards"], workers=workers, ray=ray)
    seconds = time.perf_counter() - t0
    return seconds, {n: (out / n).read_bytes() for n in (SIGNATURES, BANDS, RECORD)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=20_000_000)
    ap.add_argument("--shard-tokens", type=int, default=10_000_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="corpusmap-bench-ray-mh-"))
    try:
        write_corpus(work / "src", args.tokens)
        path = build_index([str(work / "src")], work / "ix", shard_tokens=args.shard_tokens,
                           minhash=False, workers=args.workers)  # fmt: skip
        ix = Index(path)
        ways: dict[str, list[float]] = {"local": [], "ray_cold": [], "ray_warm": []}
        _, reference = timed(ix, args.workers, None)  # warm-up: numba's cache, page cache
        import ray

        for _ in range(args.rounds):
            for way in ways:
                if way == "ray_warm":
                    ray.init(address="local", num_cpus=args.workers, include_dashboard=False,
                             log_to_driver=False, _node_ip_address="127.0.0.1")  # fmt: skip
                try:
                    seconds, files = timed(ix, args.workers, None if way == "local" else "local")
                finally:
                    if ray.is_initialized():
                        ray.shutdown()
                assert files == reference, f"{way}: MinHash files differ from the local build's"
                ways[way].append(round(seconds, 2))
        best = {w: min(v) for w, v in ways.items()}
        print(json.dumps({
            "n_tokens": ix.n_tokens, "n_docs": ix.n_docs, "n_shards": len(ix.shards),
            "workers": args.workers, "rounds": ways, "best_s": best,
            "ray_cold_over_local": round(best["ray_cold"] / best["local"], 2),
            "ray_warm_over_local": round(best["ray_warm"] / best["local"], 2),
            "files_identical": True, "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        }, indent=1))  # fmt: skip
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
