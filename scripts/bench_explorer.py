"""Explorer timings: the generations table and one generation page on 10^6 / 10^7 rows.

Writes a synthetic results folder straight to Parquet with the columns classify
writes (``corpusmap/match/score.py``), in parts of ``--shard-rows`` generations
as classify lays them out: ``--n`` generations of ~40 words, 10 spans each. It
then times, in process through Starlette's TestClient (server time: no
network), the generations table (default sort; a filtered, re-sorted page; a
deep page) and one generation page (row lookup, spans, rendering), each the
median of ``--repeat`` runs after one warm-up; and, with ``--demo RESULTS``,
the time from starting ``corpusmap serve`` to the first page answered.

    python scripts/bench_explorer.py --n 1000000 --demo demo/results
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

VOCAB = (
    "the of and to in a is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she all there been one so would king land river city "
    "water people house light word time day night"
)
WORDS = np.array(VOCAB.split())
SPANS_PER_GEN = 10
OUT_WORDS = 40


def make_part(k: int, rows: int, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    ids = [f"p{k * rows + i:08d}:0" for i in range(rows)]
    words = WORDS[rng.integers(0, len(WORDS), size=(rows, OUT_WORDS))]
    outputs = [" ".join(w) for w in words]
    prompts = [" ".join(w[:12]) for w in WORDS[rng.integers(0, len(WORDS), size=(rows, 12))]]
    longest = rng.integers(0, 30, rows)
    corpus = rng.random(rows) < 0.5
    gens = pa.table({
        "gen_id": ids, "prompt_id": [g[:-2] for g in ids], "prompt": prompts, "output": outputs,
        "n_tokens": np.full(rows, OUT_WORDS), "longest_match": longest,
        "longest_nonprompt_match": np.maximum(0, longest - rng.integers(0, 5, rows)),
        "coverage": pa.array(rng.random((rows, 4)).tolist(), pa.list_(pa.float64())),
        "novelty": pa.array(np.sort(rng.random((rows, 4)), 1).tolist(), pa.list_(pa.float64())),
        "self_repetition": rng.random(rows),
        "extracted": pa.array(np.where(corpus, rng.random(rows) < 0.1, None).tolist(), pa.bool_()),
        "prefix_match": pa.array(np.where(corpus, rng.integers(0, 20, rows), None).tolist(),
                                 pa.int64()),
        "token_match_frac": pa.array(np.where(corpus, rng.random(rows), None).tolist(),
                                     pa.float64()),
        "dup_count": pa.array(np.where(corpus, rng.integers(0, 100, rows), None).tolist(),
                              pa.int64()),
        "model": ["synthetic"] * rows,
    })  # fmt: skip
    n = rows * SPANS_PER_GEN
    starts = np.sort(rng.integers(0, OUT_WORDS - 4, size=(rows, SPANS_PER_GEN)), 1).ravel()
    lengths = np.minimum(rng.integers(4, 13, n), OUT_WORDS - starts)
    gen_of = np.repeat(np.arange(rows), SPANS_PER_GEN)
    spans = pa.table({
        "gen_id": pa.array(ids).take(pa.array(gen_of)), "start": starts, "length": lengths,
        "corpus_count": rng.integers(1, 1000, n), "in_prompt": rng.random(n) < 0.05,
        "doc_ids": pa.array(rng.integers(0, 10**6, (n, 1)).tolist(), pa.list_(pa.int64())),
        "text": [" ".join(words[g, s : s + ln]) for g, s, ln in
                 zip(gen_of.tolist(), starts.tolist(), lengths.tolist(), strict=True)],
    })  # fmt: skip
    return gens, spans


def build(out: Path, n: int, shard_rows: int) -> None:
    if (out / "manifest.json").is_file():
        print(f"reusing {out}")
        return
    shutil.rmtree(out, ignore_errors=True)
    (out / "generations").mkdir(parents=True)
    (out / "spans").mkdir()
    rng = np.random.default_rng(0)
    t = time.time()
    parts = -(-n // shard_rows)
    for k in range(parts):
        gens, spans = make_part(k, min(shard_rows, n - k * shard_rows), rng)
        pq.write_table(gens, out / "generations" / f"part-{k:05d}.parquet")
        pq.write_table(spans, out / "spans" / f"part-{k:05d}.parquet")
    plan = {"params": {"coverage_lengths": [5, 10, 20, 50], "max_n": 4, "min_span": 4},
            "tokenizer": {"kind": "words"}, "index": ""}  # fmt: skip
    manifest = {"format": "corpusmap-results", "plan": plan, "completed_at": "synthetic",
                "finished": [f"part-{k:05d}.parquet" for k in range(parts)]}  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(manifest))
    print(f"wrote {n:,} generations, {n * SPANS_PER_GEN:,} spans in {parts} parts "
          f"({time.time() - t:.0f} s)")  # fmt: skip


def timed(client, url: str, repeat: int) -> float:  # type: ignore[no-untyped-def]
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def first_page(results: str) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.perf_counter()
    cmd = [sys.executable, "-m", "corpusmap", "serve", results, "--port", str(port)]
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
                    assert r.status == 200
                    return time.perf_counter() - t
            except OSError:
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--shard-rows", type=int, default=2000, help="generations per part")
    ap.add_argument("--out", type=Path, default=Path("bench-explorer"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--demo", default=None, help="a demo results folder: time to first page")
    args = ap.parse_args()
    from starlette.testclient import TestClient

    from corpusmap.explorer import create_app

    folder = args.out / f"results-{args.n}"
    build(folder, args.n, args.shard_rows)
    client = TestClient(create_app(folder))
    mid = f"p{args.n // 2:08d}:0"
    pages = {
        "generations table, default sort (longest copy first)": "/generations",
        "generations table, filtered (text + extracted) and sorted by novelty":
            "/generations?q=river+city&extracted=no&sort=novelty",
        "generations table, page 10,000": "/generations?page=10000",
        f"one generation page ({mid}, {SPANS_PER_GEN} spans)": f"/generation/{mid}",
        "one generation as JSON": f"/api/generation/{mid}",
    }  # fmt: skip
    for label, url in pages.items():
        print(f"{label}: {timed(client, url, args.repeat):.0f} ms")
    if args.demo:
        print(f"time to first page after `corpusmap serve {args.demo}`: "
              f"{first_page(args.demo):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
