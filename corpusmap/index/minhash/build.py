"""``build_minhash``: signatures and LSH bands for every document of an index being built.

Streams shard by shard and, inside a shard, in chunks of at most ``CHUNK_DOCS``
documents and ``CHUNK_TOKENS`` tokens: each chunk's tokens are read from the
memory-mapped ``tokens.bin``, signed by the compiled kernel on ``workers``
threads, and appended to ``signatures.parquet`` and ``bands.parquet``. Memory is
bounded by one chunk, not by the corpus. ``minhash.json`` is written last, with
the sha256 of both files; a rerun over the same shards with the same parameters
finds it, re-checks the sums and skips the work. ``cut_chunks`` and
``write_minhash`` are shared with ``side_folder.py``, which signs the documents of
an opened index (ours or foreign) into a folder beside it. On Ray (``ray=``) each
shard is signed by a task and only the writing stays here (``ray_sign.py``).

What it leaves out: no deduplication of the corpus itself (``dups.py`` reports
clusters; removing documents is the user's call), and no incremental update:
adding documents means rebuilding the index.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusmap.atomic import atomic_path, write_json
from corpusmap.index.format import DOCS, TOKENS, sha256_file
from corpusmap.index.minhash.lsh import BANDS_SCHEMA, WEIGHTS, bands_table, optimal_bands
from corpusmap.index.minhash.signature import permutations, signatures
from corpusmap.index.minhash.store import (
    BANDS,
    FORMAT,
    MINHASH_DIR,
    RECORD,
    ROW_GROUP,
    SIGNATURES,
    VERSION,
    signatures_schema,
    signatures_table,
)
from corpusmap.progress import progress_bar
from corpusmap.tokenizer.spec import WIDTHS

CHUNK_DOCS = ROW_GROUP
CHUNK_TOKENS = 1 << 24
SHINGLE_HASH = "corpusmap-shingle-v1"  # names the shingle hash in signature.py


@contextmanager
def numba_threads(workers: int) -> Iterator[None]:
    """Run the kernels on ``workers`` threads (capped by numba's pool), then restore."""
    before = numba.get_num_threads()
    limit = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    numba.set_num_threads(max(1, min(workers, limit)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


Chunk = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def cut_chunks(
    ids: np.ndarray, starts: np.ndarray, lengths: np.ndarray, read: Callable[[int, int], Any]
) -> Iterator[Chunk]:
    """(doc_ids, starts, lengths, uint32 tokens) per chunk; starts index the chunk's tokens.

    A chunk holds at most ``CHUNK_DOCS`` documents and ``CHUNK_TOKENS`` tokens (at
    least one document); ``read(first, last)`` gives the token ids at positions
    ``first:last`` of the shard (separators between documents included, then skipped).
    """
    lo = 0
    while lo < ids.size:
        top = min(ids.size, lo + CHUNK_DOCS)
        ends = starts[lo:top] + lengths[lo:top] - starts[lo]
        hi = lo + max(1, int(np.searchsorted(ends, CHUNK_TOKENS, side="right")))
        first, last = int(starts[lo]), int(starts[hi - 1] + lengths[hi - 1])
        flat = np.asarray(read(first, last), dtype=np.uint32) if last > first else None
        yield (
            ids[lo:hi],
            starts[lo:hi] - first,
            lengths[lo:hi],
            flat if flat is not None else np.zeros(0, np.uint32),
        )
        lo = hi


def shard_chunks(shard: Path, width: str) -> Iterator[Chunk]:
    """The chunks of one shard being built (``tokens.bin`` and ``docs.parquet``)."""
    size = (shard / TOKENS).stat().st_size
    tokens = np.memmap(shard / TOKENS, dtype=WIDTHS[width], mode="r") if size else None
    for batch in pq.ParquetFile(shard / DOCS).iter_batches(
        batch_size=CHUNK_DOCS, columns=["doc_id", "start", "length"]
    ):
        yield from cut_chunks(
            batch.column(0).to_numpy().astype(np.int64),
            batch.column(1).to_numpy().astype(np.int64),
            batch.column(2).to_numpy().astype(np.int64),
            lambda a, b: tokens[a:b] if tokens is not None else np.zeros(0, np.uint32),
        )


def _fingerprint(records: list[dict[str, Any]]) -> str:
    """What the signatures depend on: every shard's name, size and tokens checksum."""
    keys = [
        (r["name"], r.get("n_docs"), r.get("n_tokens"), r.get("files", {}).get(TOKENS))
        for r in records
    ]
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()


def _finished(out: Path, params: dict[str, Any]) -> dict[str, Any] | None:
    """The record of an earlier identical build whose files still match, if any."""
    try:
        record: dict[str, Any] = json.loads((out / RECORD).read_text(encoding="utf-8"))
        if any(record.get(k) != v for k, v in params.items()):
            return None
        if all(sha256_file(out / f) == d for f, d in record["files"].items()):
            return record
    except (OSError, ValueError, KeyError):
        pass
    return None


def minhash_params(
    *,
    num_perm: int = 128,
    shingle: int = 5,
    seed: int = 1,
    threshold: float = 0.8,
    scheme: str = "affine32",
    weights: tuple[float, float] = WEIGHTS,
) -> dict[str, Any]:
    """The parameters a MinHash build records, checked, with its LSH ``bands``/``rows``."""
    b, r = optimal_bands(threshold, num_perm, tuple(weights))  # type: ignore[arg-type]
    permutations(num_perm, seed, scheme)  # validates num_perm and scheme early
    if shingle < 1:
        from corpusmap.errors import CorpusmapError

        raise CorpusmapError("shingle size must be at least 1 token")
    return {
        "format": FORMAT,
        "format_version": VERSION,
        "scheme": scheme,
        "num_perm": num_perm,
        "shingle": shingle,
        "seed": seed,
        "threshold": threshold,
        "weights": list(weights),
        "bands": b,
        "rows": r,
        "shingle_hash": SHINGLE_HASH,
    }


Signed = tuple[np.ndarray, np.ndarray, np.ndarray, pa.Table]  # ids, signatures, lengths, bands


def sign_chunk(chunk: Chunk, params: dict[str, Any]) -> Signed:
    """One chunk's signatures and LSH band rows (on the calling thread's numba pool)."""
    ids, starts, lengths, flat = chunk
    sign = {k: params[k] for k in ("num_perm", "shingle", "seed", "scheme")}
    sigs = signatures(flat, starts, lengths, **sign)
    b, r = int(params["bands"]), int(params["rows"])
    return ids, sigs, lengths, bands_table(ids, sigs, b, r, lengths > 0)


def write_minhash(
    out: Path, chunks: Iterable[Chunk], params: dict[str, Any], total: int | None, workers: int
) -> dict[str, Any]:
    """Sign every chunk here, on ``workers`` threads, and write them (``write_signed``)."""
    with numba_threads(workers):
        return write_signed(out, (sign_chunk(c, params) for c in chunks), params, total)


def write_signed(
    out: Path, signed: Iterable[Signed], params: dict[str, Any], total: int | None
) -> dict[str, Any]:
    """Write the signed chunks, in order, as both Parquet files in ``out``, then ``minhash.json``.

    Each file is written under a temp name and renamed into place (``atomic``); the
    record is written last, so a folder with a record has complete files. The bytes
    depend only on the chunks and their order, not on where they were signed.

    Returns:
        The record: ``params`` plus counts, sha256 and size of each file.
    """
    n_docs = n_empty = n_band_rows = 0
    with (
        atomic_path(out / SIGNATURES) as sig_tmp,
        atomic_path(out / BANDS) as band_tmp,
        pq.ParquetWriter(
            sig_tmp, signatures_schema(int(params["num_perm"])), compression="none",
            use_dictionary=False,
        ) as sig_writer,
        pq.ParquetWriter(band_tmp, BANDS_SCHEMA, compression="zstd") as band_writer,
        progress_bar() as prog,
    ):  # fmt: skip
        task = prog.add_task("minhash signatures", total=total, unit="doc")
        for ids, sigs, lengths, bands in signed:
            sig_writer.write_table(signatures_table(ids, sigs), row_group_size=ROW_GROUP)
            band_writer.write_table(bands)
            n_docs += ids.size
            n_empty += int(np.count_nonzero(lengths == 0))
            n_band_rows += bands.num_rows
            prog.advance(task, ids.size)
    record = dict(params)
    record.update(
        n_docs=n_docs,
        n_empty=n_empty,
        n_band_rows=n_band_rows,
        files={name: sha256_file(out / name) for name in (SIGNATURES, BANDS)},
        sizes={name: (out / name).stat().st_size for name in (SIGNATURES, BANDS)},
    )
    write_json(out / RECORD, record)
    return record


def build_minhash(
    folder: Path,
    tokenizer: Any,
    width: str,
    records: list[dict[str, Any]],
    *,
    workers: int = 1,
    num_perm: int = 128,
    shingle: int = 5,
    seed: int = 1,
    threshold: float = 0.8,
    scheme: str = "affine32",
    weights: tuple[float, float] = WEIGHTS,
    ray: str | None = None,
) -> dict[str, Any]:
    """Write ``folder/minhash/`` (signatures, LSH bands, record) for every document.

    Args:
        folder: the index folder being built (holds the shard folders).
        tokenizer: the index tokenizer (its kind is recorded; tokens come from the shards).
        width: token width of the shards (``u8`` | ``u16`` | ``u32``).
        records: shard records, each with ``name`` (the shard subfolder).
        workers: kernel threads.
        num_perm / seed / scheme: MinHash permutations (datasketch's for that seed).
        shingle: shingle size in tokens.
        threshold: Jaccard threshold the LSH bands are tuned for.
        weights: (false positive, false negative) weights of datasketch's band/row
            optimisation; the default favours recall (see ``lsh.py``).
        ray: ``"local"`` or a cluster address: each shard is signed by a Ray task
            (``ray_sign.py``) and this process writes the files, byte for byte those
            of a local build.

    Returns:
        The record also saved as ``minhash.json`` (parameters, ``bands``/``rows``,
        counts, sha256 of each file); the index manifest embeds it as ``minhash``.
    """
    out = Path(folder) / MINHASH_DIR
    params = minhash_params(
        num_perm=num_perm,
        shingle=shingle,
        seed=seed,
        threshold=threshold,
        scheme=scheme,
        weights=weights,
    )
    params["shards_fingerprint"] = _fingerprint(records)
    params["tokenizer"] = getattr(getattr(tokenizer, "spec", None), "kind", None)
    done = _finished(out, params)
    if done is not None:
        print(f"{out}: MinHash already built with these parameters; skipped")
        return done
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    total = sum(int(rec.get("n_docs", 0)) for rec in records) or None
    if ray is not None:
        from corpusmap.index.minhash.ray_sign import build_on_ray

        return build_on_ray(ray, Path(folder), width, records, out, params, total)
    chunks = (c for rec in records for c in shard_chunks(Path(folder) / rec["name"], width))
    return write_minhash(out, chunks, params, total, workers)
