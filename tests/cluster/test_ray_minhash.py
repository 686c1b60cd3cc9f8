"""MinHash of a Ray build: shards signed by Ray tasks, files byte for byte a local build's.

The reference is the local build of the same inputs with the same ``shard_tokens``.
The driver's signing function is replaced by one that fails while the Ray build
runs, so the test passes only if the signatures were computed in Ray workers
(which import the real one). Each shard holds more than one chunk (4,096
documents), so the order in which the driver appends the chunks is exercised.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq

from corpusmap.index.build import build_index
from corpusmap.index.index import Index
from corpusmap.index.minhash import build as minhash_build
from corpusmap.index.minhash import ray_sign
from corpusmap.index.minhash.store import BANDS, MINHASH_DIR, RECORD, SIGNATURES
from tests.cluster.corpus import shard_sums, write_corpus


def _not_here(*_args, **_kw):
    raise AssertionError("a chunk was signed on the driver")


def test_ray_minhash_matches_local(ray_local, tmp_path, monkeypatch) -> None:
    src = write_corpus(tmp_path / "src", files=3, docs=3000)
    kw = {"tokenizer": "words", "shard_tokens": 150_000, "workers": 1, "id_field": "id"}
    local = build_index([str(src)], tmp_path / "local", **kw)
    with monkeypatch.context() as m:
        m.setattr(minhash_build, "sign_chunk", _not_here)
        m.setattr(ray_sign, "sign_chunk", _not_here)
        on_ray = build_index([str(src)], tmp_path / "ray", ray="local", **kw)
    assert shard_sums(on_ray) == shard_sums(local)
    for name in (SIGNATURES, BANDS, RECORD):
        ours, theirs = on_ray / MINHASH_DIR / name, local / MINHASH_DIR / name
        assert ours.read_bytes() == theirs.read_bytes(), name
    manifests = [json.loads((p / "manifest.json").read_text()) for p in (local, on_ray)]
    assert manifests[0]["minhash"] == manifests[1]["minhash"]
    n_shards = len(manifests[0]["shards"])
    row_groups = pq.ParquetFile(local / MINHASH_DIR / SIGNATURES).metadata.num_row_groups
    assert n_shards >= 2 and row_groups > n_shards  # several chunks per shard

    a, b = Index(local), Index(on_ray)
    rng = np.random.default_rng(0)
    docs = rng.choice(a.n_docs, 12, replace=False).tolist()
    texts = [a.document_tokens(d) for d in docs]
    texts += [np.concatenate([t[: len(t) // 2], t[: len(t) // 3]]) for t in texts[:6]]
    want = a.near_duplicates(texts, threshold=0.5, limit=20)
    assert b.near_duplicates(texts, threshold=0.5, limit=20) == want
    assert all(any(h["doc_id"] == d for h in hits) for d, hits in zip(docs, want, strict=False))
    assert b.duplicates(0.7).equals(a.duplicates(0.7))
