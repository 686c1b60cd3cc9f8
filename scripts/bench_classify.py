"""Benchmark: classify throughput against a large index, and the canned SQL queries.

Part 1 scores synthetic generations (half copied from the corpus with a mutation
every ~40 tokens, half Zipf-random) against an existing index with
``corpusmap.classify`` (spans + coverage + novelty + extraction-free measures;
MinHash and patterns off) and reports generated tokens/s end to end. When an
infini-gram index of the same tokens is given (``--infini``), the same work is done
the way one would with infini-gram on a subsample: ``creativity()`` per generation
for the matching statistics, then ``count()`` per maximal span; the ratio is printed.

Part 2 writes a synthetic results folder with ``--spans`` span rows (default 10M) and
one generation row per 10 spans, then times each canned query of ``corpusmap sql``
(copy_rate, memorization_rate, novelty, extraction_by_duplicates, longest spans)
against the same aggregation in polars (lazy scan of the same Parquet files).

Run (the 200M index comes from scripts/bench_index.py --keep):
    python scripts/bench_classify.py --index /tmp/bench_index/ours_1shard \
        --infini /tmp/bench_index/infini
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

os.environ.setdefault("CORPUSMAP_PROGRESS", "0")


def make_generations(ix, n: int, length: int, seed: int) -> tuple[list[list[int]], pa.Table]:
    """Half copied-with-mutations from corpus documents, half Zipf-random token ids."""
    rng = np.random.default_rng(seed)
    vocab = min(ix.spec.vocab_size, 50_000)
    seqs = []
    for g in range(n):
        if g % 2 == 0:
            doc = ix.document_tokens(int(rng.integers(0, ix.n_docs)))
            while len(doc) < length:
                doc = np.concatenate([doc, ix.document_tokens(int(rng.integers(0, ix.n_docs)))])
            o = int(rng.integers(0, len(doc) - length + 1))
            seq = doc[o : o + length].copy()
            seq[rng.integers(0, length, size=max(1, length // 40))] = rng.integers(0, vocab)
        else:
            seq = (rng.zipf(1.2, size=length) - 1) % vocab
        seqs.append([int(t) for t in seq])
    texts = [" ".join(map(str, s)) for s in seqs]
    table = pa.table({"gen_id": [f"g{i}" for i in range(n)], "prompt": [""] * n, "output": texts})
    return seqs, table


def bench_classify(args: argparse.Namespace) -> dict:
    from corpusmap.index.opening import open_index
    from corpusmap.match import classify
    from corpusmap.match.measures import span_starts

    ix = open_index(args.index)
    seqs, table = make_generations(ix, args.generations, args.length, seed=1)
    n_tok = sum(len(s) for s in seqs)
    warm = pa.table(
        {"gen_id": ["w"], "prompt": [""], "output": [table.column("output")[0].as_py()]}
    )
    classify(warm, ix, Path(args.workdir) / "warm", minhash=False, patterns=False, force=True)
    t0 = time.perf_counter()
    out = classify(
        table,
        ix,
        Path(args.workdir) / "results",
        minhash=False,
        patterns=False,
        force=True,
        shard_rows=args.shard_rows,
    )
    ours_s = time.perf_counter() - t0
    spans = pq.read_table(out / "spans").num_rows
    res = {
        "generations": args.generations,
        "tokens": n_tok,
        "seconds": ours_s,
        "tok_per_s": n_tok / ours_s,
        "spans": spans,
    }
    print(
        f"corpusmap classify: {n_tok:,} tokens in {ours_s:.2f} s = {n_tok / ours_s:,.0f} tok/s "
        f"({spans:,} spans >= {_min_span(out)})"
    )
    if args.infini:
        from infini_gram.engine import InfiniGramEngine

        eng = InfiniGramEngine(
            index_dir=args.infini,
            eos_token_id=65534,
            vocab_size=65535,
            version=4,
            token_dtype="u16",
        )
        sub = seqs[: args.infini_generations]
        min_span = _min_span(out)
        t0 = time.perf_counter()
        for s in sub:
            ms = np.asarray(eng.creativity(input_ids=s)["rs"], dtype=np.int64)
            _, pos = span_starts(ms, np.array([0, len(ms)]), min_span)
            for p in pos.tolist():
                eng.count(input_ids=s[p : p + int(ms[p])])
        peer_s = time.perf_counter() - t0
        peer_tok = sum(len(s) for s in sub)
        res["infini_tok_per_s"] = peer_tok / peer_s
        print(
            f"infini-gram creativity+count: {peer_tok:,} tokens in {peer_s:.2f} s = "
            f"{peer_tok / peer_s:,.0f} tok/s  -> corpusmap "
            f"{res['tok_per_s'] / res['infini_tok_per_s']:.1f}x"
        )
    return res


def _min_span(results: Path) -> int:
    return json.loads((results / "manifest.json").read_text())["plan"]["params"]["min_span"]


def make_results(folder: Path, n_spans: int, seed: int = 0) -> None:
    """A synthetic results folder shaped like classify's output."""
    rng = np.random.default_rng(seed)
    n_gen = n_spans // 10
    (folder / "generations").mkdir(parents=True, exist_ok=True)
    (folder / "spans").mkdir(parents=True, exist_ok=True)
    gen_ids = pa.array([f"g{i}" for i in range(n_gen)])
    novelty = pa.FixedSizeListArray.from_arrays(pa.array(rng.random(n_gen * 10)), 10)
    prefix = rng.integers(0, 33, size=n_gen)
    gens = pa.table(
        {
            "gen_id": gen_ids,
            "prompt_id": gen_ids,
            "model": pa.array(["m"] * n_gen),
            "n_tokens": rng.integers(50, 500, size=n_gen),
            "longest_match": rng.integers(0, 200, size=n_gen),
            "longest_nonprompt_match": rng.integers(0, 200, size=n_gen),
            "novelty": novelty.cast(pa.list_(pa.float64())),
            "prefix_match": prefix,
            "extracted": prefix >= 32,
            "dup_count": rng.zipf(1.5, size=n_gen),
        }
    )
    pq.write_table(gens, folder / "generations" / "part-00000.parquet")
    chunk = 2_000_000
    for k, start in enumerate(range(0, n_spans, chunk)):
        m = min(chunk, n_spans - start)
        spans = pa.table(
            {
                "gen_id": pa.array([f"g{i}" for i in rng.integers(0, n_gen, size=m)]),
                "start": rng.integers(0, 400, size=m),
                "length": rng.integers(10, 300, size=m),
                "corpus_count": rng.zipf(1.5, size=m),
                "in_prompt": rng.random(m) < 0.1,
                "doc_ids": pa.array([[int(x)] for x in rng.integers(0, 200_000, size=m)]),
            }
        )
        pq.write_table(spans, folder / "spans" / f"part-{k:05d}.parquet")
    parts = [f"part-{k:05d}.parquet" for k in range(-(-n_spans // chunk))]
    manifest = {  # what classify writes: the views read the parts listed as finished
        "format": "corpusmap-results",
        "plan": {"index": "", "n_generations": n_gen, "shard_rows": -(-n_gen // len(parts))},
        "finished": parts,
        "completed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def bench_sql(args: argparse.Namespace) -> dict:
    import polars as pl

    from corpusmap.query.sql import sql

    folder = Path(args.workdir) / "sql_results"
    if not (folder / "manifest.json").is_file():
        make_results(folder, args.spans)
    g = pl.scan_parquet(folder / "generations" / "*.parquet")  # both sides read the files
    s = pl.scan_parquet(folder / "spans" / "*.parquet")
    canned = {
        "copy_rate(50)": (
            "SELECT * FROM copy_rate(50)",
            lambda: (
                g.group_by("model").agg((pl.col("longest_nonprompt_match") >= 50).mean()).collect()
            ),
        ),
        "memorization_rate(32)": (
            "SELECT * FROM memorization_rate(32)",
            lambda: (
                g.filter(pl.col("prefix_match").is_not_null())
                .group_by("model")
                .agg((pl.col("prefix_match") >= 32).mean())
                .collect()
            ),
        ),
        "novelty(4)": (
            "SELECT * FROM novelty(4)",
            lambda: g.group_by("model").agg(pl.col("novelty").list.get(3).mean()).collect(),
        ),
        "extraction_by_duplicates()": (
            "SELECT * FROM extraction_by_duplicates()",
            lambda: (
                g.group_by(pl.col("dup_count").clip(upper_bound=101))
                .agg(pl.col("extracted").mean())
                .collect()
            ),
        ),
        "longest non-prompt spans (10M)": (
            "SELECT gen_id, length, doc_ids[1] FROM spans WHERE NOT in_prompt "
            "ORDER BY length DESC LIMIT 20",
            lambda: (
                s.filter(~pl.col("in_prompt")).sort("length", descending=True).head(20).collect()
            ),
        ),
        "copy share by span length (10M)": (
            "SELECT length // 50 AS bucket, count(*), avg(corpus_count) "
            "FROM spans GROUP BY 1 ORDER BY 1",
            lambda: (
                s.group_by(pl.col("length") // 50)
                .agg(pl.len(), pl.col("corpus_count").mean())
                .collect()
            ),
        ),
    }
    res = {}
    print(
        f"\nSQL over {args.spans:,} spans / {args.spans // 10:,} generations "
        "(best of 3; both read Parquet)"
    )
    print(f"{'query':34s} {'corpusmap sql s':>16s} {'polars s':>10s}  goal < 1 s")
    for name, (query, peer) in canned.items():
        ours = min(_timed(lambda q=query: sql(folder, q).fetchall()) for _ in range(3))
        theirs = min(_timed(peer) for _ in range(3))
        res[name] = {"corpusmap_s": ours, "polars_s": theirs}
        print(f"{name:34s} {ours:16.3f} {theirs:10.3f}  {'PASS' if ours < 1 else 'MISS'}")
    return res


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--index", help="an existing corpusmap index (e.g. the 200M bench index)")
    ap.add_argument("--infini", help="infini-gram index of the same tokens, for the peer ratio")
    ap.add_argument("--generations", type=int, default=10_000)
    ap.add_argument("--length", type=int, default=256, help="tokens per generation")
    ap.add_argument("--infini-generations", type=int, default=40)
    ap.add_argument("--shard-rows", type=int, default=2000)
    ap.add_argument("--spans", type=int, default=10_000_000)
    ap.add_argument("--workdir", default="/tmp/bench_classify")
    ap.add_argument("--skip-sql", action="store_true")
    args = ap.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    result = {}
    if args.index:
        result["classify"] = bench_classify(args)
    if not args.skip_sql:
        result["sql"] = bench_sql(args)
    (Path(args.workdir) / "bench_classify.json").write_text(json.dumps(result, indent=2))
    print(f"\nJSON: {Path(args.workdir) / 'bench_classify.json'}")


if __name__ == "__main__":
    main()
