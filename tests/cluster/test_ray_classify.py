"""``classify(ray=...)``: generation shards as Ray tasks give the rows of a local run.

The reference is ``classify`` without Ray on the same dump and index: every result
table (generations, spans, baseline, patterns) must hold the same rows in the same
order, and the manifest must list every shard as finished.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pyarrow.parquet as pq

from corpusmap.index.build import build_index
from corpusmap.match.run import classify
from tests.cluster.background import in_background
from tests.cluster.corpus import WORDS, write_corpus


def _dump(path: Path, corpus: Path, n: int, seed: int = 1) -> Path:
    """Outputs that copy corpus spans, mixed with new words; continuations from the corpus."""
    rng = random.Random(seed)
    texts = [json.loads(line)["text"] for line in (corpus / "c0.jsonl").open(encoding="utf-8")]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            src = rng.choice(texts).split()
            copied = " ".join(src[: rng.randint(1, len(src))])
            new = " ".join(
                rng.choice([*WORDS, "zebra", "quark"]) for _ in range(rng.randint(0, 20))
            )
            row = {"gen_id": str(i), "prompt": f"tell me {i}", "output": f"{copied} {new}",
                   "continuation": " ".join(src[:8]), "doc_id": 0}  # fmt: skip
            f.write(json.dumps(row) + "\n")
    return path


def _tables(out: Path) -> dict[str, list[dict]]:
    """Every result table's rows, parts read in name order."""
    tables = {}
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        parts = sorted(folder.rglob("*.parquet"))
        tables[folder.name] = [r for p in parts for r in pq.read_table(p).to_pylist()]
    return tables


def _setup(tmp_path: Path, docs: int = 300, gens: int = 120) -> tuple[Path, Path]:
    src = write_corpus(tmp_path / "src", docs=docs)
    ix = build_index([str(src)], tmp_path / "ix", tokenizer="words", shard_tokens=3_000, workers=1)
    return ix, _dump(tmp_path / "g.jsonl", src, gens)


def test_ray_classify_matches_local(ray_local, tmp_path) -> None:
    ix, dump = _setup(tmp_path)
    kw = {"shard_rows": 25, "min_span": 3, "pattern_options": {"min_generations": 2}}
    local = classify(dump, ix, tmp_path / "local", **kw)
    on_ray = classify(dump, ix, tmp_path / "ray", ray="local", **kw)
    expected = _tables(local)
    assert set(expected) >= {"generations", "spans", "baseline", "patterns"}
    assert len(expected["generations"]) == 120 and expected["spans"]
    assert _tables(on_ray) == expected
    m = json.loads((on_ray / "manifest.json").read_text())
    assert sorted(m["finished"]) == [f"part-{k:05d}.parquet" for k in range(5)]


def test_ray_classify_survives_losing_a_node(ray_cluster, tmp_path) -> None:
    """A worker node removed mid-run: its shards rerun elsewhere, the rows match local."""
    cluster, workers = ray_cluster
    ix, dump = _setup(tmp_path, docs=300, gens=600)
    kw = {"shard_rows": 20, "min_span": 3, "patterns": False}
    local = classify(dump, ix, tmp_path / "local", **kw)
    out = tmp_path / "ray"
    t, errors = in_background(classify, dump, ix, out, ray=cluster.address, **kw)
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "generations").glob("part-*.parquet")):
        time.sleep(0.05)
    finished = len(list((out / "generations").glob("part-*.parquet")))
    assert finished, "no shard finished in time"
    cluster.remove_node(workers[1])
    t.join(timeout=300)
    assert not errors, errors
    assert finished < 30
    assert _tables(out) == _tables(local)
