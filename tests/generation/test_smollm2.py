"""End to end with the embedded SmolLM2-135M-Instruct GGUF (slow: ~20 s to load on CPU)."""

from __future__ import annotations

import pytest

from corpusmap.generation import generate, replay

pytestmark = pytest.mark.slow

PROMPTS = [
    "The capital of France is",
    "In the beginning God created",
    "def fibonacci(n):",
    "The three primary colors are",
]


def test_smollm2_greedy_generation_replays(tmp_path):
    pytest.importorskip("gguf")
    pytest.importorskip("accelerate")
    try:
        from corpusmap.generation.model import smollm2_path

        smollm2_path()
    except Exception as exc:  # the package is optional
        pytest.skip(str(exc))
    out = tmp_path / "G.parquet"
    store = generate("smollm2", PROMPTS, out, max_new_tokens=16, batch_size=4)
    rows = store.to_arrow().to_pylist()
    assert len(rows) == 4
    for row in rows:
        assert 1 <= row["n_tokens"] <= 16 and row["output"].strip()
        assert row["model"] == "smollm2"
        assert row["model_hash"].startswith("sha256:")
    france = next(r for r in rows if "France" in r["prompt"])
    assert "Paris" in france["output"]
    report = replay(out, sample=4)
    assert report["ok"], report
