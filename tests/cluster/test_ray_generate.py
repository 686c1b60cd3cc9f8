"""``generate(ray=...)``: parts as Ray tasks write the rows of a local run, exactly once.

The reference is ``generate`` without Ray on the same prompts, model and part size
(tests/generation/tiny.py: a seeded tiny Llama). Rows are compared by ``gen_id``
(token ids exactly, log-probs to float rounding); the store must hold each
``gen_id`` once and its manifest must count every row.
"""

from __future__ import annotations

import json
import threading
import time

from corpusmap.generation import GenerationStore, generate
from corpusmap.generation.store import MANIFEST
from tests.generation.tiny import PROMPTS, assert_same_rows, rows_by_id

KW = {"max_new_tokens": 6, "num_samples": 3, "temperature": 0.8, "part_rows": 4, "batch_size": 4}


def _check_store(path, expected: dict) -> None:
    table = GenerationStore(path).to_arrow()
    ids = table.column("gen_id").to_pylist()
    assert len(ids) == len(set(ids)) == len(expected)  # every row exactly once
    assert_same_rows(rows_by_id(table), expected)
    m = json.loads((path / MANIFEST).read_text())
    assert sum(p["rows"] for p in m["runs"][0]["parts"]) == len(expected)


def test_ray_generate_matches_local_and_resumes(ray_local, tiny_model, tmp_path) -> None:
    local = generate(tiny_model, PROMPTS, tmp_path / "local", **KW)
    expected = rows_by_id(local.to_arrow())
    out = tmp_path / "ray"
    store = generate(tiny_model, PROMPTS[:4], out, ray="local", **KW)  # a first, partial call
    assert store.summary["rows_written"] == 12
    store = generate(tiny_model, PROMPTS, out, ray="local", **KW)  # resumes: the rest only
    assert store.summary["rows_written"] == 9 and store.summary["rows_skipped"] == 12
    assert store.summary["tokens"] > 0
    _check_store(out, expected)


def test_ray_generate_survives_losing_a_node(ray_cluster, tiny_model, tmp_path) -> None:
    """A worker node removed mid-run: nothing written is lost, nothing is duplicated."""
    cluster, workers = ray_cluster
    prompts = [f"{p} {i}" for i in range(4) for p in PROMPTS]
    kw = dict(KW, part_rows=3)
    expected = rows_by_id(generate(tiny_model, prompts, tmp_path / "local", **kw).to_arrow())
    out = tmp_path / "ray"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            generate(tiny_model, prompts, out, ray=cluster.address, **kw)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.time() + 180
    while time.time() < deadline and not list(out.glob("part-*.parquet")):
        time.sleep(0.05)
    finished = len(list(out.glob("part-*.parquet")))
    assert finished, "no part written in time"
    cluster.remove_node(workers[1])
    t.join(timeout=300)
    assert not errors, errors
    assert finished < len(expected) // 3
    _check_store(out, expected)
