"""A stage called with ``ray="local"`` starts Ray once for all its steps, and stops it.

classify runs scoring tasks, then the pattern stage (which builds the generations
index on Ray and fans out per-shard work); a build writes shards, then signs
MinHash. Each step used to join Ray on its own, so a local call started and
stopped Ray several times (~3 s each). ``ray.init`` is wrapped to count the starts.
"""

from __future__ import annotations

import pytest

from corpusmap.index.build import build_index
from corpusmap.index.index import Index
from corpusmap.match.run import classify
from tests.cluster.corpus import write_corpus
from tests.cluster.test_ray_classify import _dump

ray = pytest.importorskip("ray")


@pytest.fixture
def counted_inits(monkeypatch) -> list[dict]:
    if ray.is_initialized():
        ray.shutdown()
    inits: list[dict] = []
    real = ray.init

    def init(*args, **kwargs):
        inits.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ray, "init", init)
    yield inits
    if ray.is_initialized():
        ray.shutdown()


def test_build_and_classify_start_ray_once_each(counted_inits, tmp_path) -> None:
    src = write_corpus(tmp_path / "src", docs=200)
    ix = build_index([str(src)], tmp_path / "ix", tokenizer="words", shard_tokens=3_000,
                     minhash=True, ray="local")  # fmt: skip
    assert len(counted_inits) == 1 and not ray.is_initialized()
    assert len(Index(ix).shards) > 1 and (ix / "minhash").is_dir()
    dump = _dump(tmp_path / "g.jsonl", src, 200)
    opts = {"min_generations": 2, "support": 3, "top_k": 0, "g_shard_tokens": 1_500}
    out = classify(dump, ix, tmp_path / "R", ray="local", shard_rows=100, min_span=3,
                   pattern_options=opts)  # fmt: skip
    assert len(counted_inits) == 2 and not ray.is_initialized()
    assert (out / "patterns" / "part-00000.parquet").is_file()
