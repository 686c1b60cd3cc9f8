"""The pattern stage on Ray: G built as shard tasks, per-shard work as tasks, local rows.

The reference is ``classify`` without Ray on the same dump and index, with G in one
shard: the ``patterns`` and ``behaviors`` tables must hold the same rows in the same
order when, on Ray, G is built as several shard tasks and every shard's n-gram work
runs as a task. A rerun on Ray with the same inputs reuses every finished step.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from corpusmap.index.build import build_index
from corpusmap.index.opening import open_index
from corpusmap.match.run import classify
from tests.cluster.background import in_background
from tests.cluster.corpus import write_corpus
from tests.cluster.test_ray_classify import _dump

BEHAVIORS = """
[[behaviors]]
name = "zebra"
literal = "zebra"

[[behaviors]]
name = "quark"
regex = 'quark'
"""


def _tables(out: Path) -> dict[str, list[dict]]:
    return {name: pq.read_table(out / name / "part-00000.parquet").to_pylist()
            for name in ("patterns", "behaviors")}  # fmt: skip


def test_ray_patterns_match_local(ray_local, tmp_path, monkeypatch) -> None:
    from corpusmap.patterns import ray_patterns

    fanned: list[str] = []  # per-shard calls the driver sent to Ray, by function
    real_map = ray_patterns.ray_map

    def counting_map(ray, ix):
        run = real_map(ray, ix)

        def counted(fn, shards, args):
            fanned.extend([fn.__name__] * len(shards))
            return run(fn, shards, args)

        return counted

    monkeypatch.setattr(ray_patterns, "ray_map", counting_map)
    src = write_corpus(tmp_path / "src", docs=300)
    ix = build_index([str(src)], tmp_path / "ix", tokenizer="words", shard_tokens=3_000, workers=1)
    dump = _dump(tmp_path / "g.jsonl", src, 300)
    (tmp_path / "b.toml").write_text(BEHAVIORS)
    opts = {"min_generations": 2, "support": 3, "top_k": 0, "behaviors": str(tmp_path / "b.toml"),
            "corpus_sample": 1000}  # fmt: skip
    kw = {"shard_rows": 100, "min_span": 3}
    local = classify(dump, ix, tmp_path / "local", pattern_options=opts, **kw)
    out = tmp_path / "ray"
    on_ray = classify(dump, ix, out, ray="local", **kw,
                      pattern_options={**opts, "g_shard_tokens": 1_500})  # fmt: skip
    assert len(open_index(local / "generations_index").shards) == 1
    assert len(open_index(on_ray / "generations_index").shards) > 2
    assert len(open_index(ix).shards) > 2
    expected = _tables(local)
    assert len(expected["patterns"]) > 100 and len(expected["behaviors"]) == 2
    assert {r["class"] for r in expected["patterns"]} >= {"shared", "idiosyncratic"}
    assert _tables(on_ray) == expected
    n_g, n_t = len(open_index(on_ray / "generations_index").shards), len(open_index(ix).shards)
    assert fanned.count("shard_buckets") == fanned.count("shard_grams") == n_g
    assert fanned.count("shard_frequent") == n_t
    assert fanned.count("shard_count") >= n_g + n_t
    first = json.loads((out / "manifest.json").read_text())["patterns"]
    state = json.loads((out / ".patterns_steps" / "state.json").read_text())
    assert set(state["done"]) >= {"generations_index", "grams", "triggers", "patterns"}
    g_mtime = (out / "generations_index" / "manifest.json").stat().st_mtime_ns
    again = classify(dump, ix, out, ray="local", **kw,
                     pattern_options={**opts, "g_shard_tokens": 1_500})  # fmt: skip
    assert (out / "generations_index" / "manifest.json").stat().st_mtime_ns == g_mtime
    assert (
        json.loads((again / "manifest.json").read_text())["patterns"]["classes"] == first["classes"]
    )
    assert _tables(again) == expected


def test_ray_patterns_survive_losing_a_node(ray_cluster, tmp_path) -> None:
    """A worker node removed once the pattern stage has started: its tasks (G's shards,
    per-shard n-gram work) rerun elsewhere and the tables equal a local run's."""
    import time

    from corpusmap.patterns.steps import FOLDER, STATE

    cluster, workers = ray_cluster
    src = write_corpus(tmp_path / "src", docs=300)
    ix = build_index([str(src)], tmp_path / "ix", tokenizer="words", shard_tokens=3_000, workers=1)
    dump = _dump(tmp_path / "g.jsonl", src, 300)
    opts = {"min_generations": 2, "support": 3, "top_k": 0, "corpus_sample": 1000}
    kw = {"shard_rows": 300, "min_span": 3}
    expected = _tables_patterns(classify(dump, ix, tmp_path / "local", pattern_options=opts, **kw))
    assert len(expected) > 100
    out = tmp_path / "ray"
    opts_ray = {**opts, "g_shard_tokens": 1_500}
    t, errors = in_background(
        classify, dump, ix, out, ray=cluster.address, pattern_options=opts_ray, **kw
    )
    deadline = time.time() + 180
    while time.time() < deadline and not (out / FOLDER / STATE).is_file():
        time.sleep(0.02)
    assert (out / FOLDER / STATE).is_file(), "the pattern stage did not start in time"
    cluster.remove_node(workers[1])
    done_then = set(json.loads((out / FOLDER / STATE).read_text())["done"])
    t.join(timeout=300)
    assert not errors, errors
    assert "patterns" not in done_then  # the node went while the stage still had work
    assert len(open_index(out / "generations_index").shards) > 2
    assert _tables_patterns(out) == expected


def _tables_patterns(out: Path) -> list[dict]:
    return pq.read_table(out / "patterns" / "part-00000.parquet").to_pylist()
