"""classify reads corpusmap generation stores, including stores with several runs."""

from __future__ import annotations

import pyarrow.parquet as pq

from corpusmap.generation import generate
from corpusmap.index.opening import open_index
from corpusmap.match import classify
from tests.conftest import build_from_docs
from tests.generation.tiny import PROMPTS, SENTENCES, build_tiny_model


def test_classify_a_generation_store_with_two_runs(tmp_path) -> None:
    model = build_tiny_model(tmp_path / "model")
    ix = open_index(build_from_docs(tmp_path, SENTENCES, tokenizer="words"))
    prompts = [
        {"id": f"p{i}", "prompt": p, "continuation": "the lazy dog", "doc_id": 0}
        for i, p in enumerate(PROMPTS)
    ]
    store = tmp_path / "G.parquet"
    generate(str(model), prompts, store, max_new_tokens=6, batch_size=4)
    generate(
        str(model), prompts, store, max_new_tokens=6, batch_size=4, temperature=1.0, new_run=True
    )
    out = classify(store, ix, tmp_path / "res", min_span=2, minhash=False, patterns=False)
    gens = pq.read_table(out / "generations").to_pylist()
    assert len(gens) == 2 * len(PROMPTS)
    assert {g["gen_id"].split(":")[0] for g in gens} == {"r1", "r2"}
    assert all(g["prefix_match"] is not None and g["dup_count"] is not None for g in gens)
    for g in gens:  # the words of each output, recounted against the corpus
        words = g["output"].split()
        assert g["n_tokens"] == len(ix.encode(g["output"]))
        assert (g["longest_match"] > 0) == any(ix.count(w) > 0 for w in words)
