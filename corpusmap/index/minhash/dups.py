"""Near-duplicate clusters inside the corpus itself (``corpusmap index dups``).

How often a text is repeated in training data predicts whether a model memorizes
it, so every document gets a cluster size. Steps:

1. candidate pairs from one DuckDB self-join of ``bands.parquet`` on ``(band,
   bucket)``. A bucket of ``m`` documents gives all ``m(m-1)/2`` pairs while
   ``m <= STAR_CAP``; a bigger bucket (mass duplication: the same boilerplate
   thousands of times) links each member to the bucket's first document
   instead, so the pair count stays linear;
2. each pair verified by estimated Jaccard >= threshold: the signatures of the
   documents in any pair are read in one pass over ``signatures.parquet``
   (memory grows with the number of such documents, not the corpus);
3. connected components of the verified pairs (scipy) are the clusters; a
   cluster's id is its smallest doc_id.

What it leaves out: clusters are single-linkage (connected components), so two
members of one cluster can be less similar than the threshold through a chain
of near-duplicates; and inside a bucket bigger than ``STAR_CAP`` a document that
only resembles a member other than the first is not linked through that bucket.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from corpusmap.index.integrity import check_minhash_files
from corpusmap.index.minhash.signature import estimated_jaccard
from corpusmap.index.minhash.store import (
    BANDS,
    SignatureReader,
    duckdb_cursor,
    load_params,
    minhash_folder,
)
from corpusmap.progress import progress_bar

STAR_CAP = 64

_PAIRS_SQL = """
WITH bands AS (
    SELECT band, bucket, doc_id FROM read_parquet($path)
), multi AS (
    SELECT band, bucket, count(*) AS n, min(doc_id) AS first
    FROM bands GROUP BY band, bucket HAVING count(*) > 1
), members AS (
    SELECT b.band, b.bucket, b.doc_id, m.n, m.first
    FROM bands b JOIN multi m ON b.band = m.band AND b.bucket = m.bucket
)
SELECT DISTINCT x, y FROM (
    SELECT a.doc_id AS x, c.doc_id AS y
    FROM members a JOIN members c ON a.band = c.band AND a.bucket = c.bucket
    WHERE a.n <= $cap AND a.doc_id < c.doc_id
    UNION ALL
    SELECT first AS x, doc_id AS y FROM members WHERE n > $cap AND doc_id <> first
)
"""

SCHEMA = pa.schema(
    [("doc_id", pa.int64()), ("cluster_id", pa.int64()), ("cluster_size", pa.int64())]
)


def candidate_pairs(where: Any) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``x < y`` of documents sharing at least one band bucket (see step 1).

    ``where``: an opened index or a folder (see ``store.minhash_folder``).
    """
    cur = duckdb_cursor()
    try:
        path = str(minhash_folder(where) / BANDS)
        res = cur.execute(_PAIRS_SQL, {"cap": STAR_CAP, "path": path}).fetchnumpy()
    finally:
        cur.close()
    return res["x"].astype(np.int64), res["y"].astype(np.int64)


def _clusters(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(doc_id, cluster_id, cluster_size) of every document in a verified pair."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nodes, inv = np.unique(np.concatenate([x, y]), return_inverse=True)
    k = nodes.size
    graph = coo_matrix((np.ones(x.size, dtype=np.int8), (inv[: x.size], inv[x.size :])), (k, k))
    _, label = connected_components(graph, directed=False)
    first = np.full(label.max() + 1 if k else 0, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, label, nodes)  # nodes are sorted, but be explicit
    sizes = np.bincount(label)
    return nodes, first[label], sizes[label].astype(np.int64)


def self_duplicates(index: Any, threshold: float | None = None) -> pa.Table:
    """Clusters of near-duplicate documents in the index's own corpus.

    Args:
        index: an open ``Index`` with MinHash (its own, or a side folder attached
            with ``open_index(..., minhash=DIR)``).
        threshold: minimum estimated Jaccard for a pair to link (default: build threshold).

    Returns:
        Table ``doc_id, cluster_id, cluster_size`` with one row per document in a
        cluster of two or more, ordered by cluster size (largest first), cluster, doc.
    """
    params = load_params(index)
    check_minhash_files(minhash_folder(index))  # once per process: never from damaged files
    thr = float(params["threshold"] if threshold is None else threshold)
    with progress_bar() as prog:
        task = prog.add_task("verify near-duplicate pairs", total=None, unit="pair")
        x, y = candidate_pairs(index)
        prog.update(task, total=x.size)
        # one pass over the signature file for every document in a pair; memory grows
        # with the number of such documents, not with the corpus
        nodes = np.unique(np.concatenate([x, y]))
        sigs = SignatureReader(index, int(params["num_perm"])).take(nodes)
        xi, yi = np.searchsorted(nodes, x), np.searchsorted(nodes, y)
        ok = np.zeros(x.size, dtype=bool)
        step = 1 << 16
        for lo in range(0, x.size, step):
            hi = min(lo + step, x.size)
            ok[lo:hi] = estimated_jaccard(sigs[xi[lo:hi]], sigs[yi[lo:hi]]) >= thr
            prog.advance(task, hi - lo)
    doc, cid, size = _clusters(x[ok], y[ok])
    order = np.lexsort((doc, cid, -size))
    return pa.table([doc[order], cid[order], size[order]], schema=SCHEMA)


def duplicate_counts(index: Any, threshold: float | None = None) -> np.ndarray:
    """Every document's near-duplicate cluster size (1 for a unique document), by doc_id."""
    counts = np.ones(int(index.n_docs), dtype=np.int64)
    table = self_duplicates(index, threshold)
    counts[table.column("doc_id").to_numpy()] = table.column("cluster_size").to_numpy()
    return counts
