"""Benchmark corpusmap's suffix-array index against infini-gram 2.6.0 on one synthetic corpus.

What it measures, on the same token stream written in each tool's own format:

1. Build: wall-clock seconds, Mtok/s, peak RSS of the whole process tree (sampled every
   50 ms, summed over the build process and all its children; each build is a subprocess)
   and bytes per token on disk. corpusmap is built twice: with the default shard size
   (one shard) and with ``--shard-tokens`` (default: half of tokens + separators, so two
   shards, sorted in parallel by the two workers). infini-gram's ``tokenized.0`` and
   ``offset.0`` are written by this script (its tokenize step is skipped), so its build
   time is the suffix sort only.
2. count: ``--queries`` mixed n-grams (70% of lengths 1..10 sampled from the corpus, 20%
   random, mostly absent, 10% single very frequent tokens). infini-gram
   ``engine.count`` in a Python loop against one batched ``Index.count`` call. Counts must
   be equal for every query.
3. Matching statistics: ``--ms-tokens`` tokens in sequences of 500 (half copied from the
   corpus with a random mutation every ~50 tokens, half freshly sampled). infini-gram
   ``engine.creativity`` (``rs[l] - l`` is the longest prefix of ``seq[l:]`` in the
   corpus) against ``Index.matching_statistics`` with numba at 1 and 2 threads. Results
   must be equal at every position.

The corpus (fixed seed): token ids 0..49999 drawn with p(rank) ∝ 1/(rank + 2.7) through a
random permutation of the ids, documents of log-normal length (mean ~1,000 tokens).
corpusmap reads ``data.u16`` (every document followed by 65535); infini-gram gets the same
documents, each preceded by 0xFFFF, plus the uint64 byte offset of every document.

Also: our queries again on the two-shard index (checked against the same answers), the
latency of one query per call at 1 and 2 numba threads, and noise indicators (CPU time
other processes used during each build, load averages, a hash of ``corpusmap/index``'s
sources at start and end). It prints a table with every number, the ratios and the goals
(PASS/MISS), and writes ``bench_index.json`` to the work folder. Timings on a shared
2-core machine are noisy: 1-thread and 2-thread runs alternate so drift hits both alike.

Run (infini-gram 2.6.0 and psutil must be installed):

    .venv/bin/python scripts/bench_index.py \
        [--tokens 200_000_000] [--queries 10000] [--ms-tokens 20000] [--shard-tokens N] \
        [--workdir /tmp/bench_index] [--keep] [--reuse]

``--keep`` leaves the corpus and indexes in the work folder; ``--reuse`` then skips the
corpus generation and the builds whose outputs are still there (their build numbers come
from the earlier run). Without ``--keep`` only the JSON and the build logs are left.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # leave no __pycache__ behind in the repository

REPO = Path(__file__).resolve().parent.parent
SEP = 0xFFFF
VOCAB = 50_000
DOC_MEAN = 1_000
SEED = 20240601
MS_SEQ_LEN = 500
MUTATE_EVERY = 50
GOALS = {
    "count_speedup": 10.0,  # ours vs infini-gram, per query
    "ms_speedup_1t": 30.0,  # ours (1 thread) vs creativity
    "ms_tok_s_1t": 100_000.0,  # ours, 1 thread
}


# ---------------------------------------------------------------------------- helpers
def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def child_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["CORPUSMAP_PROGRESS"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["NUMBA_CACHE_DIR"] = str(workdir / "numba_cache")
    return env


def run_measured(cmd: list[str], env: dict[str, str], log_path: Path) -> dict[str, Any]:
    """Run ``cmd``, sampling the summed RSS of its process tree every 50 ms."""
    import psutil

    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = psutil.cpu_times()
    t0 = time.perf_counter()
    with open(log_path, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        root = psutil.Process(proc.pid)
        peak = {"rss": 0, "at": 0.0, "procs": 0}
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                total, n = 0, 0
                try:
                    procs = [root, *root.children(recursive=True)]
                except psutil.Error:
                    procs = []
                for p in procs:
                    try:
                        total += p.memory_info().rss
                        n += 1
                    except psutil.Error:
                        pass
                if total > peak["rss"]:
                    peak.update(rss=total, at=time.perf_counter() - t0, procs=n)
                done.wait(0.05)

        th = threading.Thread(target=poll, daemon=True)
        th.start()
        rc = proc.wait()
        seconds = time.perf_counter() - t0
        done.set()
        th.join()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu1 = psutil.cpu_times()
    tree_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)

    def busy(c: Any) -> float:
        return sum(c) - c.idle - getattr(c, "iowait", 0.0)

    others = max(0.0, busy(cpu1) - busy(cpu0) - tree_cpu) / seconds
    if rc != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise SystemExit(f"command failed ({rc}): {' '.join(cmd)}\n{tail}")
    return {"seconds": seconds, "peak_rss": peak["rss"], "peak_at_s": peak["at"],
            "peak_procs": peak["procs"], "cpu_seconds": tree_cpu,
            "other_procs_cores": others}  # fmt: skip


# ---------------------------------------------------------------------------- corpus
class Sampler:
    """Token ids 0..VOCAB-1 with p(rank) ∝ 1/(rank + 2.7), ranks mapped by a permutation."""

    def __init__(self, rng: Any) -> None:
        import numpy as np

        p = 1.0 / (np.arange(VOCAB, dtype=np.float64) + 2.7)
        self.cdf = np.cumsum(p / p.sum())
        self.cdf[-1] = 1.0
        self.perm = rng.permutation(VOCAB).astype(np.uint16)

    def sample(self, rng: Any, n: int) -> Any:
        import numpy as np

        ranks = np.searchsorted(self.cdf, rng.random(n), side="right")
        return self.perm[np.minimum(ranks, VOCAB - 1)]

    def top(self, k: int) -> Any:
        return self.perm[:k]


def make_corpus(workdir: Path, n_tokens: int) -> dict[str, Any]:
    """Write ``corpus/data.u16`` (ours) and ``infini/{tokenized,offset}.0`` (infini-gram)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    sampler = Sampler(rng)
    sigma = 1.0
    mu = math.log(DOC_MEAN) - sigma**2 / 2
    lens = np.zeros(0, dtype=np.int64)
    while lens.sum() < n_tokens:
        more = np.maximum(1, np.rint(rng.lognormal(mu, sigma, n_tokens // DOC_MEAN + 16)))
        lens = np.concatenate([lens, more.astype(np.int64)])
    cum = np.cumsum(lens)
    n_docs = int(np.searchsorted(cum, n_tokens) + 1)
    lens = lens[:n_docs].copy()
    lens[-1] -= int(cum[n_docs - 1] - n_tokens)
    assert lens.sum() == n_tokens and lens.min() >= 1

    ours = workdir / "corpus" / "data.u16"
    ig = workdir / "infini"
    ours.parent.mkdir(parents=True, exist_ok=True)
    ig.mkdir(parents=True, exist_ok=True)
    # infini-gram's stream is ours shifted by one: SEP d0 SEP d1 ... SEP dn (no final SEP)
    starts = np.concatenate([[0], np.cumsum(lens + 1)[:-1]]).astype(np.uint64) * 2
    starts.tofile(ig / "offset.0")
    group = 8_000_000
    with open(ours, "wb") as f_ours, open(ig / "tokenized.0", "wb") as f_ig:
        f_ig.write(np.array([SEP], dtype="<u2").tobytes())
        d = 0
        while d < n_docs:
            e = int(np.searchsorted(cum, cum[d] - lens[d] + group, side="right"))
            e = min(max(e, d + 1), n_docs)
            block_lens = lens[d:e]
            body = sampler.sample(rng, int(block_lens.sum()))
            out = np.empty(body.size + block_lens.size, dtype="<u2")
            is_sep = np.zeros(out.size, dtype=bool)
            is_sep[np.cumsum(block_lens + 1) - 1] = True
            out[is_sep] = SEP
            out[~is_sep] = body
            out.tofile(f_ours)
            (out[:-1] if e == n_docs else out).tofile(f_ig)
            d = e
    info = {"tokens": n_tokens, "docs": n_docs, "seed": SEED, "mean_doc": n_tokens / n_docs,
            "max_doc": int(lens.max())}  # fmt: skip
    (workdir / "corpus" / "corpus.json").write_text(json.dumps(info))
    return info


# ---------------------------------------------------------------------------- builds
def build_ours(
    workdir: Path, name: str, shard_tokens: int | None, env: dict[str, str]
) -> dict[str, Any]:
    out = workdir / name
    cmd = [sys.executable, "-m", "corpusmap", "index", "build", str(workdir / "corpus/data.u16"),
           "--out", str(out), "--tokenizer", "ids:65000", "--token-dtype", "u16",
           "--eod-id", str(SEP), "--no-minhash", "--workers", "2", "--force"]  # fmt: skip
    if shard_tokens is not None:
        cmd += ["--shard-tokens", str(shard_tokens)]
    shutil.rmtree(out, ignore_errors=True)
    res = run_measured(cmd, env, workdir / f"build_{name}.log")
    manifest = json.loads((out / "manifest.json").read_text())
    res["bytes"] = dir_bytes(out)
    res["files"] = {str(f.relative_to(out)): f.stat().st_size for f in out.rglob("*")
                    if f.is_file()}  # fmt: skip
    res["n_shards"] = manifest["n_shards"]
    res["sort_seconds"] = [s.get("sort_seconds") for s in manifest["shards"]]
    res["internal_build_seconds"] = manifest.get("build_seconds")
    return res


def build_infini(workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    import re

    save = workdir / "infini"
    data_dir = workdir / "infini_data"  # unused: tokenized.0/offset.0 are already there
    data_dir.mkdir(exist_ok=True)
    for stale in save.iterdir():
        if stale.name not in ("tokenized.0", "offset.0"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    ulimit = 20_000 if hard == resource.RLIM_INFINITY else min(20_000, hard)
    cmd = [sys.executable, "-m", "infini_gram.indexing", "--data_dir", str(data_dir.resolve()),
           "--save_dir", str(save.resolve()), "--token_dtype", "u16", "--cpus", "2",
           "--mem", "16", "--ulimit", str(ulimit)]  # fmt: skip
    logf = workdir / "build_infini.log"
    res = run_measured(cmd, env, logf)
    res["bytes"] = dir_bytes(save)
    res["files"] = {f.name: f.stat().st_size for f in save.iterdir() if f.is_file()}
    res["n_shards"] = 1
    res["steps"] = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"Step 2\.\d \(([\w-]+)\): Done\. Took ([\d.]+)", logf.read_text())
    }
    return res


# ---------------------------------------------------------------------------- queries
def make_count_queries(data: Any, sampler: Sampler, n: int, rng: Any) -> list[list[int]]:
    n_corpus = int(n * 0.7)
    n_random = int(n * 0.2)
    n_freq = n - n_corpus - n_random
    qs: list[list[int]] = []
    while len(qs) < n_corpus:
        length = int(rng.integers(1, 11))
        pos = int(rng.integers(0, data.size - length))
        window = data[pos : pos + length]
        if (window == SEP).any():
            continue
        qs.append([int(x) for x in window])
    for _ in range(n_random):
        length = int(rng.integers(1, 11))
        qs.append([int(x) for x in rng.integers(0, VOCAB, length)])
    top = sampler.top(20)
    qs.extend([int(top[int(rng.integers(0, top.size))])] for _ in range(n_freq))
    order = rng.permutation(len(qs))
    return [qs[i] for i in order]


def make_ms_seqs(data: Any, sampler: Sampler, total: int, rng: Any) -> list[list[int]]:
    import numpy as np

    n_seqs = max(2, round(total / MS_SEQ_LEN))
    seqs: list[list[int]] = []
    for k in range(n_seqs):
        if k % 2 == 0:  # copied from the corpus (separators dropped), then mutated
            pos = int(rng.integers(0, data.size - 4 * MS_SEQ_LEN))
            window = np.asarray(data[pos : pos + 4 * MS_SEQ_LEN])
            seq = window[window != SEP][:MS_SEQ_LEN].astype(np.int64)
            i = int(rng.geometric(1 / MUTATE_EVERY)) - 1
            while i < seq.size:
                seq[i] = int(rng.integers(0, VOCAB))
                i += int(rng.geometric(1 / MUTATE_EVERY))
        else:
            seq = sampler.sample(rng, MS_SEQ_LEN).astype(np.int64)
        seqs.append([int(x) for x in seq])
    return seqs


def timed(fn: Any, repeat: int) -> tuple[float, float, Any]:
    """(median and best seconds over ``repeat`` runs, last result)."""
    times, res = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), res


def timed_threads(cases: dict[str, Any], repeat: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Time ``{label: (numba_threads, fn)}`` round-robin, so load drift hits all alike.

    Returns ``{label_s: median, label_best_s: best}`` and each case's last result.
    """
    import numba

    times: dict[str, list[float]] = {k: [] for k in cases}
    last: dict[str, Any] = {}
    for _ in range(repeat):
        for label, (threads, fn) in cases.items():
            numba.set_num_threads(threads)
            t0 = time.perf_counter()
            last[label] = fn()
            times[label].append(time.perf_counter() - t0)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    out: dict[str, float] = {}
    for label, ts in times.items():
        out[f"{label}_s"], out[f"{label}_best_s"] = statistics.median(ts), min(ts)
    return out, last


def shard_extras(ix: Any, shard: Any) -> tuple[Any, ...]:
    """Extra kernel arguments ``Index`` passes for a shard (the first-token table, if any)."""
    import inspect

    from corpusmap.index import kernels as K

    if "table" not in inspect.signature(K.count_batch).parameters:
        return ()
    from corpusmap.index.prefix_table import first_token_table

    return (first_token_table(shard, ix.separator),)


def first_call(path: Path, qs: list[list[int]]) -> float:
    """Seconds for the first count on a freshly opened index (JIT already warm)."""
    from corpusmap.index.opening import open_index

    open_index(path).count(qs[:50])  # compile / load the JIT cache
    t0 = time.perf_counter()
    open_index(path).count(qs[:50])
    return time.perf_counter() - t0


def code_fingerprint() -> str:
    """sha256 of corpusmap's index sources, to tell which version a run measured."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted((REPO / "corpusmap" / "index").glob("*.py")):
        h.update(f.relative_to(REPO).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def bench_count(
    ix: Any, eng: Any, qs: list[list[int]], repeat: int, ref: list[int] | None = None
) -> dict[str, Any]:
    """Time both tools' counts; with ``ref`` (infini-gram's counts) infini-gram is not rerun."""
    import numpy as np

    from corpusmap.index import kernels as K

    ix.count(qs[:50])  # JIT warm-up (or cache load), and any per-shard lookup tables

    def ig_all() -> list[int]:
        return [eng.count(input_ids=q)["count"] for q in qs]

    res: dict[str, Any] = {"n": len(qs)}
    if ref is None:
        ig_all()  # warm the page cache for infini-gram too
        res["ig_s"], res["ig_best_s"], ig_counts = timed(ig_all, max(1, repeat // 2))
    else:
        ig_counts = ref
    res["_ref"] = ig_counts
    # the compiled kernel alone (queries already flattened) shows the Python overhead
    try:  # the one batch type (older trees flattened inside Index)
        from corpusmap.tokenizer.batch import TokenBatch

        batch = TokenBatch.from_items(qs)
        flat, offs = batch.flat, batch.offsets
    except ImportError:
        flat, offs = ix._flat([np.asarray(q, dtype=np.int64) for q in qs])

    def kernel() -> None:
        out = np.zeros(offs.size - 1, dtype=np.int64)
        for s in ix.shards:
            K.count_batch(s.tokens, s.sa, flat, offs, out, *shard_extras(ix, s))

    cases = {f"{what}_{t}t": (t, fn) for t in (1, 2)
             for what, fn in (("ours", lambda: ix.count(qs)), ("kernel", kernel))}  # fmt: skip
    times, last = timed_threads(cases, repeat)
    res.update(times)
    # latency of one call with one query (what an interactive caller sees)
    single = qs[: min(200, len(qs))]
    one = {f"single_{t}t": (t, lambda: [ix.count(q) for q in single]) for t in (1, 2)}
    for k, v in timed_threads(one, 1)[0].items():
        if not k.endswith("_best_s"):
            res[k.replace("_s", "_us_per_call")] = v / len(single) * 1e6
    res["loadavg_1m"] = os.getloadavg()[0]
    ours = last["ours_2t"]
    bad = [(q, a, b) for q, a, b in zip(qs, ours, ig_counts, strict=True) if a != b]
    res["mismatches"] = len(bad)
    res["mismatch_examples"] = [{"q": q, "ours": a, "infini": b} for q, a, b in bad[:10]]
    res["absent_frac"] = sum(c == 0 for c in ig_counts) / len(qs)
    return res


def bench_ms(
    ix: Any, eng: Any, seqs: list[list[int]], repeat: int, ref: list[list[int]] | None = None
) -> dict[str, Any]:
    """Time both tools' matching statistics; with ``ref`` infini-gram is not rerun."""
    import numpy as np

    n_tok = sum(len(s) for s in seqs)
    ix.matching_statistics(seqs[:2])  # JIT warm-up

    def ig_all() -> list[list[int]]:
        out = []
        for s in seqs:
            rs = eng.creativity(input_ids=s)["rs"]
            out.append([r - i for i, r in enumerate(rs)])  # rs[l] = l + match length
        return out

    res: dict[str, Any] = {"n_seqs": len(seqs), "n_tokens": n_tok}
    if ref is None:
        res["ig_s"], _, ig_ms = timed(ig_all, 1)
    else:
        ig_ms = ref
    res["_ref"] = ig_ms
    cases = {f"ours_{t}t": (t, lambda: ix.matching_statistics(seqs)) for t in (1, 2)}
    times, last = timed_threads(cases, repeat)
    res.update(times)
    res["loadavg_1m"] = os.getloadavg()[0]
    ours = last["ours_1t"]
    assert all(np.array_equal(a, b) for a, b in zip(ours, last["ours_2t"], strict=True))
    bad = []
    res["mismatch_positions"] = 0
    for k, (a, b) in enumerate(zip(ours, ig_ms, strict=True)):
        diff = np.flatnonzero(np.asarray(a) != np.asarray(b))
        for i in diff[:3].tolist():
            bad.append({"seq": k, "pos": i, "ours": int(a[i]), "infini": int(b[i]),
                        "tokens": seqs[k][i : i + 8]})  # fmt: skip
        res["mismatch_positions"] += int(diff.size)
    res["mismatch_examples"] = bad[:10]
    ms_all = np.concatenate([np.asarray(a) for a in ours])
    res["mean_ms"] = float(ms_all.mean())
    res["mean_ms_copied"] = float(np.concatenate(ours[0::2]).mean())
    res["mean_ms_random"] = float(np.concatenate(ours[1::2]).mean()) if len(ours) > 1 else 0.0
    res["max_ms"] = int(ms_all.max())
    return res


# ---------------------------------------------------------------------------- report
def fmt_row(cols: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(
        zip(cols, widths, strict=True)))  # fmt: skip


def report(r: dict[str, Any]) -> str:
    n = r["corpus"]["tokens"]
    b1, b2, bi = r["build"]["ours_1shard"], r["build"]["ours_2shards"], r["build"]["infini"]
    c, m = r["count"], r["ms"]
    rows: list[list[str]] = [["metric", "corpusmap", "infini-gram", "ours/peer", "goal", ""]]

    def add(metric: str, ours: str, peer: str, ratio: str = "", goal: str = "", ok: str = ""):  # type: ignore[no-untyped-def]
        rows.append([metric, ours, peer, ratio, goal, ok])

    for b in (b1, b2):
        label = f"{b['n_shards']} shard" + ("s" if b["n_shards"] > 1 else "")
        add(f"build s ({label})", f"{b['seconds']:.1f}", f"{bi['seconds']:.1f}",
            f"{bi['seconds'] / b['seconds']:.2f}x faster")  # fmt: skip
        add(f"build Mtok/s ({label})", f"{n / b['seconds'] / 1e6:.2f}",
            f"{n / bi['seconds'] / 1e6:.2f}")  # fmt: skip
        steps = bi.get("steps", {})
        add(f"  sort s per shard / peer make-part+merge ({label})",
            "+".join(f"{x:.1f}" for x in b.get("sort_seconds", []) if x is not None),
            "+".join(f"{steps[k]:.1f}" for k in ("make-part", "merge") if k in steps))  # fmt: skip
        add(f"build peak RSS B/tok ({label})", f"{b['peak_rss'] / n:.2f}",
            f"{bi['peak_rss'] / n:.2f}", f"{b['peak_rss'] / bi['peak_rss']:.2f}x")  # fmt: skip
        add(f"index B/tok on disk ({label})", f"{b['bytes'] / n:.2f}", f"{bi['bytes'] / n:.2f}",
            f"{b['bytes'] / bi['bytes']:.2f}x")  # fmt: skip
    per_q = {k: c[k] / c["n"] * 1e6 for k in ("ig_s", "ours_1t_s", "ours_2t_s")}
    sp2, sp1 = per_q["ig_s"] / per_q["ours_2t_s"], per_q["ig_s"] / per_q["ours_1t_s"]
    g = GOALS["count_speedup"]
    add("count µs/query (2 threads)", f"{per_q['ours_2t_s']:.2f}", f"{per_q['ig_s']:.1f}",
        f"{sp2:.1f}x faster", f">= {g:.0f}x", "PASS" if sp2 >= g else "MISS")  # fmt: skip
    add("count µs/query (1 thread)", f"{per_q['ours_1t_s']:.2f}", f"{per_q['ig_s']:.1f}",
        f"{sp1:.1f}x faster")  # fmt: skip
    if "kernel_1t_s" in c:
        add(
            "  count kernel only µs/query 1t/2t",
            f"{c['kernel_1t_s'] / c['n'] * 1e6:.2f}/{c['kernel_2t_s'] / c['n'] * 1e6:.2f}",
            "",
        )
    if "single_1t_us_per_call" in c:
        add("  one query per call, µs/call 1t/2t",
            f"{c['single_1t_us_per_call']:.0f}/{c['single_2t_us_per_call']:.0f}",
            f"{per_q['ig_s']:.0f}")  # fmt: skip
    add("count results equal", "yes" if c["mismatches"] == 0 else f"{c['mismatches']} differ",
        "", "", "all equal", "PASS" if c["mismatches"] == 0 else "MISS")  # fmt: skip
    tps = {k: m["n_tokens"] / m[k] for k in ("ig_s", "ours_1t_s", "ours_2t_s")}
    s1 = tps["ours_1t_s"] / tps["ig_s"]
    g1, g2 = GOALS["ms_speedup_1t"], GOALS["ms_tok_s_1t"]
    add("match stats tok/s (1 thread)", f"{tps['ours_1t_s']:,.0f}", f"{tps['ig_s']:,.0f}",
        f"{s1:.1f}x faster", f">= {g1:.0f}x", "PASS" if s1 >= g1 else "MISS")  # fmt: skip
    add("match stats tok/s (1 thread), abs", f"{tps['ours_1t_s']:,.0f}", "", "",
        f">= {g2:,.0f}", "PASS" if tps["ours_1t_s"] >= g2 else "MISS")  # fmt: skip
    s2 = tps["ours_2t_s"] / tps["ig_s"]
    faster = tps["ours_2t_s"] > tps["ours_1t_s"]
    add("match stats tok/s (2 threads)", f"{tps['ours_2t_s']:,.0f}", f"{tps['ig_s']:,.0f}",
        f"{s2:.1f}x faster", "2t > 1t", "PASS" if faster else "MISS")  # fmt: skip
    add("  2 threads / 1 thread", f"{tps['ours_2t_s'] / tps['ours_1t_s']:.2f}x", "")
    eq = m["mismatch_positions"] == 0
    add("match stats equal", "yes" if eq else f"{m['mismatch_positions']} positions differ",
        "", "", "all equal", "PASS" if eq else "MISS")  # fmt: skip
    if "count_2shards" in r:
        c2, m2 = r["count_2shards"], r["ms_2shards"]
        eq2 = c2["mismatches"] == 0 and m2["mismatch_positions"] == 0
        add(
            f"{b2['n_shards']}-shard index: count µs/query 1t/2t",
            f"{c2['ours_1t_s'] / c2['n'] * 1e6:.2f}/{c2['ours_2t_s'] / c2['n'] * 1e6:.2f}",
            "",
        )
        add(
            f"{b2['n_shards']}-shard index: match stats tok/s 1t/2t",
            f"{m2['n_tokens'] / m2['ours_1t_s']:,.0f}/{m2['n_tokens'] / m2['ours_2t_s']:,.0f}",
            "",
        )
        add(f"{b2['n_shards']}-shard index: results equal", "yes" if eq2 else "NO", "", "",
            "all equal", "PASS" if eq2 else "MISS")  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = [fmt_row(row, widths) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("-" * len(lines[0]))
    noise = ", ".join(
        f"{k} {b['cpu_seconds'] / b['seconds']:.2f} (others {b['other_procs_cores']:.2f})"
        for k, b in r["build"].items()
        if "other_procs_cores" in b
    )
    lines.append(f"cores busy during builds, build tree (other processes): {noise}")
    lines.append(
        f"1-min load average after count / match stats: {c['loadavg_1m']:.2f} / "
        f"{m['loadavg_1m']:.2f} on {os.cpu_count()} cores"
    )
    if "first_call_s" in c:
        lines.append(
            f"first count (50 queries) on a freshly opened index: {c['first_call_s']:.3f} s"
        )
    fp0, fp1 = r.get("code_fingerprint_start"), r.get("code_fingerprint_end")
    lines.append(f"corpusmap/index sources: {fp0}" + ("" if fp0 == fp1 else f" -> {fp1} (CHANGED)"))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=lambda s: int(s.replace("_", "")), default=200_000_000)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--ms-tokens", type=int, default=20_000)
    ap.add_argument(
        "--shard-tokens",
        type=lambda s: int(s.replace("_", "")),
        default=None,
        help="shard size of the second corpusmap build (default: half of tokens plus "
        "separators, which makes exactly two shards)",
    )
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench_index"))
    ap.add_argument("--keep", action="store_true", help="keep corpus and indexes")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse corpus and builds kept by an earlier --keep run")  # fmt: skip
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions of our queries")
    args = ap.parse_args()
    workdir: Path = args.workdir.resolve()
    if str(workdir).startswith(str(REPO)):
        raise SystemExit("--workdir must be outside the repository")
    workdir.mkdir(parents=True, exist_ok=True)
    env = child_env(workdir)
    os.environ["NUMBA_CACHE_DIR"] = env["NUMBA_CACHE_DIR"]
    os.environ["CORPUSMAP_PROGRESS"] = "0"

    import numpy as np
    from infini_gram.engine import InfiniGramEngine

    from corpusmap.index import sort as corpus_sort
    from corpusmap.index.opening import open_index

    # compile the sort's compaction loop into the cache so no build pays for the JIT
    corpus_sort._compact(np.zeros(4, dtype=np.int32), np.zeros(8, dtype=np.uint8), 2, 0xFF)

    result: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "code_fingerprint_start": code_fingerprint(),
    }
    prev_path = workdir / "bench_index.json"
    prev = json.loads(prev_path.read_text()) if args.reuse and prev_path.is_file() else {}

    # 1. corpus
    cjson = workdir / "corpus" / "corpus.json"
    if args.reuse and cjson.is_file() and json.loads(cjson.read_text())["tokens"] == args.tokens:
        result["corpus"] = json.loads(cjson.read_text())
        log(f"reusing corpus: {result['corpus']}")
    else:
        for stale in ("ours_1shard", "ours_2shards", "infini"):
            shutil.rmtree(workdir / stale, ignore_errors=True)
        log(f"writing corpus of {args.tokens:,} tokens")
        t0 = time.perf_counter()
        result["corpus"] = make_corpus(workdir, args.tokens)
        result["corpus"]["gen_seconds"] = time.perf_counter() - t0
        log(f"corpus: {result['corpus']}")
        prev = {}

    # 2. builds, one after the other. A shard closes at the first document that takes it to
    # shard_tokens or past, separators included: half of tokens + docs gives two shards.
    shard2 = args.shard_tokens or -(-(args.tokens + result["corpus"]["docs"]) // 2)
    builds: dict[str, Any] = {}
    plan = [("ours_1shard", None), ("ours_2shards", shard2), ("infini", None)]
    for name, shard_tokens in plan:
        done_marker = workdir / name / ("table.0" if name == "infini" else "manifest.json")
        old = prev.get("build", {}).get(name)
        if old and old.get("shard_tokens") == shard_tokens and done_marker.is_file():
            builds[name] = old
            log(f"reusing build {name}: {builds[name]['seconds']:.1f} s")
            continue
        log(f"building {name}" + (f" (shard_tokens={shard_tokens:,})" if shard_tokens else ""))
        if name == "infini":
            builds[name] = build_infini(workdir, env)
        else:
            builds[name] = build_ours(workdir, name, shard_tokens, env)
        builds[name]["shard_tokens"] = shard_tokens
        b = builds[name]
        log(f"  {b['seconds']:.1f} s, peak RSS {b['peak_rss'] / 2**30:.2f} GiB, "
            f"{b['bytes'] / 2**30:.2f} GiB on disk")  # fmt: skip
    result["build"] = builds

    # 3. + 4. queries on the default (one-shard) index
    rng = np.random.default_rng(SEED + 1)
    sampler = Sampler(np.random.default_rng(SEED))  # same permutation as the corpus
    data = np.memmap(workdir / "corpus" / "data.u16", dtype="<u2", mode="r")
    qs = make_count_queries(data, sampler, args.queries, rng)
    seqs = make_ms_seqs(data, sampler, args.ms_tokens, rng)
    ix = open_index(workdir / "ours_1shard")
    eng = InfiniGramEngine(index_dir=str(workdir / "infini"), eos_token_id=65534,
                           vocab_size=65535, version=4, token_dtype="u16")  # fmt: skip
    log(f"count: {len(qs):,} queries")
    first = first_call(workdir / "ours_1shard", qs)
    result["count"] = bench_count(ix, eng, qs, args.repeat)
    result["count"]["first_call_s"] = first
    log(f"matching statistics: {len(seqs)} sequences")
    result["ms"] = bench_ms(ix, eng, seqs, args.repeat)
    log("same queries on the two-shard index (ours only)")
    ix2 = open_index(workdir / "ours_2shards")
    result["count_2shards"] = bench_count(ix2, eng, qs, args.repeat, result["count"]["_ref"])
    result["ms_2shards"] = bench_ms(ix2, eng, seqs, args.repeat, result["ms"]["_ref"])
    del data, ix, ix2, eng
    for key in ("count", "ms", "count_2shards", "ms_2shards"):
        result[key].pop("_ref")

    result["code_fingerprint_end"] = code_fingerprint()
    if result["code_fingerprint_end"] != result["code_fingerprint_start"]:
        log("WARNING: corpusmap/index sources changed during this run; numbers are mixed")
    table = report(result)
    result["table"] = table.splitlines()
    prev_path.write_text(json.dumps(result, indent=2, default=str))
    print()
    print(table)
    print()
    for key in ("count", "ms", "count_2shards", "ms_2shards"):
        ex = result[key].get("mismatch_examples")
        if ex:
            print(f"{key}: mismatches, first ones: {json.dumps(ex)}")
    print(f"JSON: {prev_path}")
    if not args.keep:
        for name in ("corpus", "ours_1shard", "ours_2shards", "infini", "infini_data"):
            shutil.rmtree(workdir / name, ignore_errors=True)
    ok = all(result[k]["mismatches"] == 0 for k in ("count", "count_2shards")) and all(
        result[k]["mismatch_positions"] == 0 for k in ("ms", "ms_2shards")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
