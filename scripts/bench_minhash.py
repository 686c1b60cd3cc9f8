"""Benchmark MinHash signatures and LSH queries: corpusmap vs datasketch vs rensa, in one run.

Corpus: ``--docs`` synthetic documents of ``--words`` words drawn from a Zipf
vocabulary (fixed seed), joined by spaces. 128 permutations by default.

(a) Signatures, end to end from text (every row includes its own tokenization
    or shingling):
    * corpusmap, ``words`` tokenizer (the index's own, loaded from the index
      built below): word-id 5-shingles, i.e. the same shingles as the peers;
      encoding in ``--workers`` processes (the build's encoder), kernel on
      ``--workers`` threads. Also shown split into tokenize-only / kernel-only.
    * corpusmap, ``bytes`` tokenizer (the default index tokenizer): 5-byte
      shingles, a different shingle set, shown for the cost of the kernel alone.
    * datasketch ``MinHash.bulk`` over word 5-shingles as UTF-8 bytes (SHA-1).
    * rensa ``RMinHash``: per document ``update`` of the word 5-shingles, and
      its bulk ``digest_matrix_from_token_sets``.
(b) LSH queries over the same signatures: corpusmap on disk (one DuckDB join
    of band tables + verification against stored signatures) vs datasketch's
    in-memory ``MinHashLSH.query`` with the same bands (``weights`` equal to
    ours). datasketch returns unverified candidates; ours are verified.

Run: ``PYTHONPATH=. python scripts/bench_minhash.py [--docs 10000]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("CORPUSMAP_PROGRESS", "0")


def make_corpus(n_docs: int, n_words: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Documents of Zipf-distributed made-up words, and the vocabulary."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = sorted({"".join(rng.choice(letters, int(rng.integers(2, 9)))) for _ in range(60_000)})
    texts = []
    for _ in range(n_docs):
        idx = (rng.zipf(1.1, size=n_words) - 1) % len(vocab)
        texts.append(" ".join(vocab[i] for i in idx.tolist()))
    return texts, vocab


def word_shingles(text: str, n: int = 5) -> list[str]:
    w = text.split()
    return [" ".join(w[i : i + n]) for i in range(max(1, len(w) - n + 1))]


def timed(fn, *args):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def ours_words(ix, texts: list[str], workers: int, perm: int):  # type: ignore[no-untyped-def]
    """Encode in worker processes (batches of 256) and sign each batch as it arrives."""
    from corpusmap.index.minhash.signature import signatures_of
    from corpusmap.tokenizer.parallel import encode_batches

    batches = ((i, texts[i : i + 256]) for i in range(0, len(texts), 256))
    parts = [signatures_of(enc, num_perm=perm) for _, enc in
             encode_batches(ix.tokenizer, ix.path, batches, workers)]  # fmt: skip
    return np.concatenate(parts)


def ours_bytes(texts: list[str], perm: int) -> np.ndarray:
    from corpusmap.index.minhash.signature import signatures_of
    from corpusmap.tokenizer.simple import BytesTokenizer

    return signatures_of(BytesTokenizer().encode_batch(texts), num_perm=perm)


def datasketch_bulk(texts: list[str], perm: int) -> list:
    from datasketch import MinHash

    return MinHash.bulk(([s.encode() for s in word_shingles(t)] for t in texts), num_perm=perm)


def rensa_update(texts: list[str], perm: int) -> list:
    from rensa import RMinHash

    out = []
    for t in texts:
        m = RMinHash(num_perm=perm, seed=1)
        m.update(word_shingles(t))
        out.append(m.digest())
    return out


def rensa_bulk(texts: list[str], perm: int):  # type: ignore[no-untyped-def]
    from rensa import RMinHash

    return RMinHash.digest_matrix_from_token_sets([word_shingles(t) for t in texts], perm, 1)


def queries(texts: list[str], vocab: list[str], n: int, seed: int = 1) -> list[str]:
    """Half edited copies of corpus documents (1-20 words replaced), half new documents."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        if k % 2 == 0:
            w = texts[int(rng.integers(len(texts)))].split()
            for p in rng.integers(0, len(w), size=int(rng.integers(1, 21))).tolist():
                w[p] = vocab[int(rng.integers(len(vocab)))]
        else:
            w = [vocab[i] for i in ((rng.zipf(1.1, size=1000) - 1) % len(vocab)).tolist()]
        out.append(" ".join(w))
    return out


def row(name: str, n: int, secs: float, unit: str, base: float | None = None) -> str:
    rate = n / secs
    ratio = f"{rate / base:8.2f}x" if base else ""
    return f"  {name:<58} {n:>7} {secs:9.3f} s {rate:>11,.0f} {unit}/s {ratio}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--words", type=int, default=1_000)
    ap.add_argument("--perm", type=int, default=128)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--queries", type=int, default=None, help="LSH queries (default: --docs)")
    args = ap.parse_args()
    import numba

    from corpusmap.index.build import build_index
    from corpusmap.index.index import open_index
    from corpusmap.index.minhash import near_duplicates
    from corpusmap.index.minhash.build import numba_threads
    from corpusmap.index.minhash.compat import to_datasketch
    from corpusmap.index.minhash.lsh import WEIGHTS
    from corpusmap.index.minhash.query import query_signatures
    from corpusmap.index.minhash.signature import signatures_of
    from corpusmap.index.minhash.store import SignatureReader
    from tests.conftest import write_jsonl

    n, perm, workers = args.docs, args.perm, args.workers
    print(f"{n:,} docs x {args.words:,} words, {perm} permutations, {workers} workers, "
          f"{os.cpu_count()} cores, numba threads {min(workers, numba.config.NUMBA_NUM_THREADS)}")  # fmt: skip
    t0 = time.perf_counter()
    texts, vocab = make_corpus(n, args.words)
    print(f"corpus generated in {time.perf_counter() - t0:.1f} s "
          f"({sum(map(len, texts)) / n:,.0f} chars/doc)")  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="bench_minhash_"))
    src = write_jsonl(tmp / "corpus.jsonl", texts)
    secs, path = timed(lambda: build_index(src, tmp / "idx", tokenizer="words", workers=workers))
    ix = open_index(path)
    mh = ix.manifest["minhash"]
    print(f"index built in {secs:.1f} s (words tokenizer, {ix.n_tokens:,} tokens; "
          f"LSH {mh['bands']} bands x {mh['rows']} rows at threshold {mh['threshold']})\n")  # fmt: skip

    with numba_threads(workers):
        ours_words(ix, texts[:300], workers, perm)  # warm up: pool start, kernels
        ours_bytes(texts[:50], perm)
        print(
            "(a) signatures, end to end from text" + " " * 30 + "docs      time        rate   vs ds"
        )
        t_ds, _ = timed(datasketch_bulk, texts, perm)
        ds_rate = n / t_ds
        print(row("datasketch MinHash.bulk (word 5-shingles, SHA-1)", n, t_ds, "doc"))
        t_ru, _ = timed(rensa_update, texts, perm)
        print(row("rensa RMinHash.update per doc (word 5-shingles)", n, t_ru, "doc", ds_rate))
        t_rb, _ = timed(rensa_bulk, texts, perm)
        print(row("rensa digest_matrix_from_token_sets (bulk)", n, t_rb, "doc", ds_rate))
        t_ow, sigs = timed(ours_words, ix, texts, workers, perm)
        print(row(f"corpusmap words tokenizer ({workers} proc) + kernel", n, t_ow, "doc", ds_rate))
        t_tok, enc = timed(ix.tokenizer.encode_batch, texts)
        print(row("  of which: words tokenize only, 1 process", n, t_tok, "doc", ds_rate))
        t_k, _ = timed(lambda: signatures_of(enc, num_perm=perm))
        print(
            row(
                f"  of which: kernel only from token ids ({workers} threads)",
                n,
                t_k,
                "doc",
                ds_rate,
            )
        )
        t_ob, _ = timed(ours_bytes, texts, perm)
        print(row("corpusmap bytes tokenizer + kernel (5-byte shingles)", n, t_ob, "doc", ds_rate))
        stored = SignatureReader(ix.path, perm).take(np.arange(n))
        assert np.array_equal(stored, sigs), "signatures from text differ from the index's"
        best_rensa = n / min(t_ru, t_rb)
        print(f"  ours (words) / datasketch = {n / t_ow / ds_rate:.1f}x (goal 10x), "
              f"ours (words) / best rensa = {n / t_ow / best_rensa:.2f}x (goal 1x), "
              f"ours (bytes) / datasketch = {n / t_ob / ds_rate:.1f}x\n")  # fmt: skip

        q_texts = queries(texts, vocab, args.queries or n)
        q_ids = ix.tokenizer.encode_batch(q_texts)
        q_sigs = signatures_of(q_ids, num_perm=perm)
        thr = float(mh["threshold"])
        query_signatures(ix.path, q_sigs[:10], thr)  # warm up
        t_q, (qid, doc, _) = timed(query_signatures, ix.path, q_sigs, thr)
        t_nd, _ = timed(lambda: near_duplicates(ix, q_ids, limit=10))
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=thr, num_perm=perm, weights=WEIGHTS)
    leans = [to_datasketch(s, 1, perm) for s in stored]
    t_ins, _ = timed(lambda: [lsh.insert(i, m) for i, m in enumerate(leans)])
    q_leans = [to_datasketch(s, 1, perm) for s in q_sigs]
    t_dq, cands = timed(lambda: [lsh.query(m) for m in q_leans])
    nq = len(q_sigs)
    print(f"(b) LSH queries ({nq:,}: half edited corpus docs, half new)" + " " * 12 +
          "queries   time        rate   vs ds")  # fmt: skip
    print(row(f"datasketch MinHashLSH.insert (in memory, {lsh.b}x{lsh.r})", n, t_ins, "doc"))
    print(row("datasketch MinHashLSH.query (in memory, unverified)", nq, t_dq, "q"))
    dq = nq / t_dq
    print(row("corpusmap on disk: DuckDB band join + verification", nq, t_q, "q", dq))
    print(row("corpusmap near_duplicates (token ids: sign+join+verify+meta)", nq, t_nd, "q", dq))
    ours = {(int(a), int(b)) for a, b in zip(qid, doc, strict=True)}
    theirs = {(k, d) for k, c in enumerate(cands) for d in c
              if np.count_nonzero(stored[d] == q_sigs[k]) / perm >= thr}  # fmt: skip
    print(f"  verified results identical to datasketch's candidates >= {thr}: {ours == theirs} "
          f"({len(ours):,} pairs; datasketch raw candidates {sum(map(len, cands)):,})")  # fmt: skip
    print(f"  on disk: {sum(f.stat().st_size for f in (ix.path / 'minhash').iterdir()) / 1e6:.1f} MB"
          f" in {ix.path / 'minhash'}")  # fmt: skip


if __name__ == "__main__":
    main()
