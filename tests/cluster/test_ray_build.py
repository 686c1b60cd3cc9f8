"""``build_index(ray=...)``: shards as Ray tasks give the files of a local build.

The reference is the local build of the same inputs with the same ``shard_tokens``:
every shard's range and sha256 sums must be equal, and the index must verify.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pytest

from corpusmap.errors import InputError, MissingDependencyError
from corpusmap.index.build import build_index
from corpusmap.index.verify import verify_index
from tests.cluster.background import in_background
from tests.cluster.corpus import shard_sums, write_corpus


@pytest.mark.parametrize(
    ("tokenizer", "shard_tokens"), [("bytes", 20_000), ("words", 3_000), ("bytes", 1 << 28)]
)
def test_ray_build_matches_local(ray_local, tmp_path, tokenizer, shard_tokens) -> None:
    src = write_corpus(tmp_path / "src")
    kw = {"tokenizer": tokenizer, "shard_tokens": shard_tokens, "minhash": False, "workers": 1}
    kw["id_field"] = "id"
    local = build_index([str(src)], tmp_path / "local", **kw)
    on_ray = build_index([str(src)], tmp_path / "ray", ray="local", **kw)
    assert shard_sums(on_ray) == shard_sums(local)
    assert verify_index(on_ray)["ok"]
    if shard_tokens < 1 << 28:
        assert len(shard_sums(local)) > 3  # several shards, across file boundaries


def test_ray_build_with_minhash_and_memory_docs(ray_local, tmp_path) -> None:
    """In-memory documents and the MinHash index take the same path on Ray."""
    from corpusmap.sources.document import Document

    docs = [
        Document(f"doc {i} " + "ab " * (i % 17), "<memory>", i + 1, id=str(i)) for i in range(400)
    ]
    local = build_index(docs, tmp_path / "local", shard_tokens=2_000, workers=1)
    on_ray = build_index(docs, tmp_path / "ray", shard_tokens=2_000, workers=1, ray="local")
    assert shard_sums(on_ray) == shard_sums(local)
    m = [json.loads((p / "manifest.json").read_text()) for p in (local, on_ray)]
    assert m[0]["minhash"]["files"] == m[1]["minhash"]["files"]


def test_ray_build_resumes_finished_shards(ray_local, tmp_path) -> None:
    """A rerun keeps shards whose checksums hold and rebuilds a damaged one."""
    from corpusmap.index.format import building_dir

    src = write_corpus(tmp_path / "src")
    kw = {"shard_tokens": 20_000, "minhash": False, "workers": 1}
    ref = build_index([str(src)], tmp_path / "local", **kw)
    out = tmp_path / "ray"
    build_index([str(src)], out, ray="local", **kw)
    # turn the published index back into an interrupted build: manifest gone, a shard broken
    building = building_dir(out)
    out.rename(building)
    (building / "manifest.json").unlink()
    (building / "shard-001" / "sa.bin").write_bytes(b"broken")
    kept = (building / "shard-000" / "shard.json").stat().st_mtime_ns
    build_index([str(src)], out, ray="local", **kw)
    assert shard_sums(out) == shard_sums(ref)
    assert (out / "shard-000" / "shard.json").stat().st_mtime_ns == kept


def test_ray_build_of_token_ids_matches_local(ray_local, tmp_path) -> None:
    """Pre-tokenized u16 input: the read tasks keep ids in the index width, files equal."""
    rng = np.random.default_rng(0)
    stream = rng.integers(0, 60_000, size=30_000).astype(np.uint16)
    stream[rng.integers(0, stream.size, size=300)] = 65535  # document ends
    for i, part in enumerate(np.array_split(stream, 3)):
        part.tofile(tmp_path / f"t{i}.u16")
    srcs = [str(tmp_path / f"t{i}.u16") for i in range(3)]
    kw = {"tokenizer": "ids:60000", "eod_id": 65535, "shard_tokens": 7_000, "minhash": False}
    local = build_index(srcs, tmp_path / "local", workers=1, **kw)
    on_ray = build_index(srcs, tmp_path / "ray", ray="local", **kw)
    assert len(shard_sums(local)) > 3
    assert shard_sums(on_ray) == shard_sums(local)


def test_ray_build_reports_a_reserved_id_as_local_does(ray_local, tmp_path) -> None:
    np.array([1, 2, 65534, 65535, 3, 65535], dtype=np.uint16).tofile(tmp_path / "t.u16")
    kw = {"tokenizer": "ids:60000", "eod_id": 65535, "minhash": False}
    with pytest.raises(InputError, match=r"t\.u16:1: token id 65534"):
        build_index(tmp_path / "t.u16", tmp_path / "idx", ray="local", **kw)
    assert not (tmp_path / "idx").exists()


def test_missing_ray_gives_install_hint(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    src = write_corpus(tmp_path / "src", files=1, docs=5)
    with pytest.raises(MissingDependencyError, match=r"pip install 'corpusmap\[ray\]'"):
        build_index([str(src)], tmp_path / "ix", ray="local", minhash=False)


def test_ray_build_survives_losing_a_node(ray_cluster, tmp_path) -> None:
    """A worker node removed mid-build: its shards rerun on the other, the files match."""
    from corpusmap.index.format import building_dir

    cluster, workers = ray_cluster
    src = write_corpus(tmp_path / "src", files=4, docs=1500)
    kw = {"shard_tokens": 15_000, "minhash": False, "workers": 1}
    ref = build_index([str(src)], tmp_path / "local", **kw)
    out = tmp_path / "ray"
    t, errors = in_background(build_index, [str(src)], out, ray=cluster.address, **kw)
    building = building_dir(out)
    deadline = time.time() + 120
    while time.time() < deadline and not list(building.glob("shard-*/shard.json")):
        time.sleep(0.05)
    finished = len(list(building.glob("shard-*/shard.json")))
    assert finished, "no shard finished in time"
    cluster.remove_node(workers[1])
    t.join(timeout=300)
    assert not errors, errors
    assert finished < len(shard_sums(ref)) >= 6  # the node left with shards still to build
    assert shard_sums(out) == shard_sums(ref)
    assert verify_index(out)["ok"]
