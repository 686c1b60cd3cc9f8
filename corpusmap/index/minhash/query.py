"""``near_duplicates``: corpus documents whose MinHash Jaccard with each text passes a threshold.

A whole batch of texts is answered at once, in four steps:

1. tokenize every text with the index's tokenizer and sign all of them in one
   kernel call (token-id arrays skip the tokenizer);
2. cut the signatures into the index's LSH bands and put the ``(band, bucket,
   query)`` rows in an Arrow table;
3. one DuckDB join of that table against ``minhash/bands.parquet`` on ``(band,
   bucket)`` gives every candidate ``(query, doc_id)`` pair (read from disk, no
   in-memory LSH);
4. verify each candidate against its stored signature (vectorised numpy,
   reading only the row groups that hold candidates), keep estimated Jaccard >=
   threshold, rank, and attach the documents' metadata.

With ``exact=True`` the candidates (estimate >= threshold minus three standard
errors, so true matches near the threshold are not lost to noise) are re-scored by
exact Jaccard of the shingle sets and kept when that passes the threshold.

What it leaves out: the LSH bands are fixed at build time, so a threshold well
below the build threshold misses pairs the bands never bring together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError
from corpusmap.index.integrity import check_minhash_files
from corpusmap.index.minhash.exact_jaccard import set_jaccard, shingle_set
from corpusmap.index.minhash.lsh import bands_table
from corpusmap.index.minhash.signature import signatures_of
from corpusmap.index.minhash.store import (
    BANDS,
    SignatureReader,
    duckdb_cursor,
    load_params,
    minhash_folder,
)
from corpusmap.tokenizer.batch import TokenBatch

_PAIR_CHUNK = 1 << 16
_ENCODE_BATCH = 1024

TextLike = str | Sequence[int] | np.ndarray


def band_matches(where: Any, table: Any) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``(id, doc_id)`` pairs sharing a bucket, from one DuckDB join.

    Args:
        where: an opened index or a folder (see ``store.minhash_folder``).
        table: Arrow table ``(band, bucket, doc_id)`` whose ``doc_id`` is a query id.
    """
    cur = duckdb_cursor()
    try:
        cur.register("q", table)
        res = cur.execute(
            "SELECT DISTINCT q.doc_id AS qid, b.doc_id AS doc_id "
            "FROM q JOIN read_parquet($bands) b ON q.band = b.band AND q.bucket = b.bucket",
            {"bands": str(minhash_folder(where) / BANDS)},
        ).fetchnumpy()
    finally:
        cur.close()
    return res["qid"].astype(np.int64), res["doc_id"].astype(np.int64)


def estimate_pairs(reader: SignatureReader, left: np.ndarray, doc_ids: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of ``left[i]`` (a signature) and stored ``doc_ids[i]``, in chunks."""
    out = np.empty(doc_ids.size, dtype=np.float64)
    for lo in range(0, doc_ids.size, _PAIR_CHUNK):
        hi = min(lo + _PAIR_CHUNK, doc_ids.size)
        stored = reader.take(doc_ids[lo:hi])
        out[lo:hi] = np.count_nonzero(left[lo:hi] == stored, axis=1) / reader.num_perm
    return out


def query_signatures(
    where: Any, sigs: np.ndarray, threshold: float, keep: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates of each query signature with estimated Jaccard >= ``threshold``.

    Args:
        where: an opened index or a folder (see ``store.minhash_folder``).
        sigs: uint32 ``(n_queries, num_perm)`` signatures made with the index's parameters.
        threshold: minimum estimated Jaccard.
        keep: queries to look up (default: all); others get no candidates.

    Returns:
        ``(query, doc_id, estimate)`` arrays, sorted by doc_id.
    """
    params = load_params(where)
    if sigs.shape[1] != params["num_perm"]:
        raise CorpusmapError(
            f"signatures have {sigs.shape[1]} permutations, index has {params['num_perm']}"
        )
    keep = np.ones(sigs.shape[0], dtype=bool) if keep is None else keep
    ids = np.arange(sigs.shape[0], dtype=np.int64)
    qid, doc = band_matches(where, bands_table(ids, sigs, params["bands"], params["rows"], keep))
    order = np.argsort(doc, kind="stable")
    qid, doc = qid[order], doc[order]
    est = estimate_pairs(SignatureReader(where, sigs.shape[1]), sigs[qid], doc)
    ok = est >= threshold
    return qid[ok], doc[ok], est[ok]


def _encode_strings(index: Any, texts: list[str], workers: int) -> list[np.ndarray]:
    """Encode; big lists in batches with a progress bar, in ``workers`` processes."""
    from corpusmap.progress import progress_bar
    from corpusmap.tokenizer.parallel import encode_batches

    if len(texts) <= _ENCODE_BATCH:
        return list(index.tokenizer.encode_batch(texts))
    batches = ((None, texts[i : i + _ENCODE_BATCH]) for i in range(0, len(texts), _ENCODE_BATCH))
    procs = workers if len(texts) >= 4 * _ENCODE_BATCH else 1
    out: list[np.ndarray] = []
    with progress_bar() as prog:
        task = prog.add_task("tokenize queries", total=len(texts), unit="text")
        for _, encoded in encode_batches(index.tokenizer, index.path, batches, procs):
            out.extend(encoded)
            prog.advance(task, len(encoded))
    return out


def encode_texts(
    index: Any, texts: TextLike | Sequence[TextLike] | TokenBatch, workers: int = 1
) -> tuple[list[np.ndarray], bool]:
    """Token ids of each text with the index's tokenizer; whether a single text was given.

    Many strings are encoded in batches (in ``workers`` processes when there are
    many); anything else goes through the index's one query normalisation
    (``query_batch.to_batch``), which maps ids the corpus cannot hold to ``unknown``.
    """
    from corpusmap.index.query_batch import to_batch

    is_strings = isinstance(texts, list) and texts and all(isinstance(x, str) for x in texts)
    if is_strings and len(texts) > _ENCODE_BATCH:  # type: ignore[arg-type]
        encoded = TokenBatch.from_items(_encode_strings(index, list(texts), workers))  # type: ignore[arg-type]
        batch, single = encoded.clipped(index.unknown, index.unknown), False
    else:
        batch, single = to_batch(texts, index.tokenizer, int(index.unknown))
    return list(batch), single


def _top(qid: np.ndarray, doc: np.ndarray, score: np.ndarray, limit: int | None) -> np.ndarray:
    """Positions of the best ``limit`` pairs per query, ordered by query, score desc, doc_id."""
    order = np.lexsort((doc, -score, qid))
    if limit is None or order.size == 0:
        return order
    q = qid[order]
    first = np.r_[0, np.flatnonzero(np.diff(q)) + 1]
    rank = np.arange(q.size) - np.repeat(first, np.diff(np.r_[first, q.size]))
    return order[rank < limit]


def near_duplicates(
    index: Any,
    texts: TextLike | Sequence[TextLike] | TokenBatch,
    threshold: float | None = None,
    limit: int | None = 10,
    exact: bool = False,
    workers: int = 1,
) -> list[dict[str, Any]] | list[list[dict[str, Any]]]:
    """Corpus documents near-duplicating each text, by MinHash LSH (see module docstring).

    Args:
        index: an open ``Index`` with MinHash: built with it, or opened with
            ``open_index(..., minhash=DIR)`` (a side folder; any index, foreign too).
        texts: a text or token-id array, or a list of them (answered in one batch).
        threshold: minimum Jaccard (default: the threshold the index was built for).
        limit: most documents returned per text (None: all).
        exact: also compute exact shingle-set Jaccard and filter/rank by it.
        workers: tokenizer processes for big batches of strings.

    Returns:
        Per text, records sorted by similarity: ``doc_id``, ``jaccard`` (estimated),
        ``exact_jaccard`` (with ``exact``), ``id``, ``source``, ``row``, ``meta``. One
        list for a single text, a list of lists for a list of texts.
    """
    params = load_params(index)
    check_minhash_files(minhash_folder(index))  # once per process: never from damaged files
    thr = float(params["threshold"] if threshold is None else threshold)
    if not 0.0 <= thr <= 1.0:
        raise CorpusmapError(f"threshold must be between 0 and 1, got {thr}")
    items, single = encode_texts(index, texts, workers)
    n, num_perm = int(params["shingle"]), int(params["num_perm"])
    sigs = signatures_of(
        items, num_perm=num_perm, shingle=n, seed=int(params["seed"]), scheme=params["scheme"]
    )
    floor = max(0.0, thr - 3 * np.sqrt(thr * (1 - thr) / num_perm)) if exact else thr
    keep = np.array([x.size > 0 for x in items], dtype=bool)
    qid, doc, est = query_signatures(index, sigs, floor, keep)
    exact_j = None
    if exact:
        exact_j = _exact_scores(index, items, qid, doc, n)
        ok = exact_j >= thr
        qid, doc, est, exact_j = qid[ok], doc[ok], est[ok], exact_j[ok]
    pick = _top(qid, doc, exact_j if exact_j is not None else est, limit)
    results: list[list[dict[str, Any]]] = [[] for _ in items]
    info = _metadata(index, doc[pick])
    for p in pick.tolist():
        d = int(doc[p])
        rec = {"doc_id": d, "jaccard": float(est[p])}
        if exact_j is not None:
            rec["exact_jaccard"] = float(exact_j[p])
        rec.update(info[d])
        results[int(qid[p])].append(rec)
    return results[0] if single else results


def _metadata(index: Any, doc_ids: np.ndarray) -> dict[int, dict[str, Any]]:
    """``id, source, row, meta`` of each document: one ``take`` per shard, not one per doc."""
    import json

    import pyarrow as pa

    from corpusmap.index.shard import Shard

    ids = np.unique(np.asarray(doc_ids, dtype=np.int64))
    if hasattr(index, "documents_metadata"):  # shards served elsewhere (ray_served)
        return dict(index.documents_metadata(ids))
    firsts = np.array([s.first_doc_id for s in index.shards], dtype=np.int64)
    which = np.searchsorted(firsts, ids, side="right") - 1
    out: dict[int, dict[str, Any]] = {}
    for k in np.unique(which).tolist():
        shard, sel = index.shards[k], ids[which == k]
        if not isinstance(shard, Shard):  # a foreign shard: its own record per document
            for d in sel.tolist():
                rec = shard.doc_record(d - shard.first_doc_id)
                out[d] = {key: rec[key] for key in ("id", "source", "row", "meta")}
            continue
        rows = shard.docs.take(pa.array(sel - shard.first_doc_id))
        for d, row in zip(
            sel.tolist(), rows.select(["id", "source", "row", "meta"]).to_pylist(), strict=True
        ):
            row["meta"] = json.loads(row["meta"]) if row["meta"] else {}
            out[d] = row
    return out


def _exact_scores(
    index: Any, items: list[np.ndarray], qid: np.ndarray, doc: np.ndarray, n: int
) -> np.ndarray:
    """Exact shingle-set Jaccard of every (query, doc) pair (documents read once each)."""
    query_sets: dict[int, np.ndarray] = {}
    out = np.empty(qid.size, dtype=np.float64)
    last_doc, doc_set = -1, None
    for i, (q, d) in enumerate(zip(qid.tolist(), doc.tolist(), strict=True)):  # sorted by doc
        if d != last_doc:
            last_doc, doc_set = d, shingle_set(index.document_tokens(d), n)
        if q not in query_sets:
            query_sets[q] = shingle_set(items[q], n)
        out[i] = set_jaccard(query_sets[q], doc_set)  # type: ignore[arg-type]
    return out
