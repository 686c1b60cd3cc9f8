"""generate() with the tiny model: schema, determinism, log-probs, padding, stop strings."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusmap.generation import ROW_SCHEMA, generate, load_model
from tests.generation.tiny import PROMPTS, assert_same_rows, reference_logprobs, rows_by_id

SAMPLING = {"temperature": 1.0, "top_k": 20, "top_p": 0.9}


def test_row_schema_and_extra_prompt_columns(tiny_model, tmp_path):
    """Corpus prompts bring doc_id/offset/continuation: they come out unchanged, typed."""
    prompts = pa.table(
        {
            "id": ["a", "b", "c"],
            "prompt": PROMPTS[:3],
            "doc_id": pa.array([10, 11, 12], pa.int64()),
            "offset": pa.array([0, 5, 7], pa.int32()),
            "continuation": ["over the lazy dog", "test of", "sat on"],
        }
    )
    pq.write_table(prompts, tmp_path / "p.parquet")
    store = generate(
        tiny_model, str(tmp_path / "p.parquet"), tmp_path / "G.parquet", max_new_tokens=6
    )
    table = store.to_arrow()
    assert table.schema.names == [*ROW_SCHEMA.names, "doc_id", "offset", "continuation"]
    for field in ROW_SCHEMA:
        assert table.schema.field(field.name).type == field.type, field.name
    assert table.schema.field("offset").type == pa.int32()
    rows = table.to_pylist()
    assert [r["gen_id"] for r in rows] == ["a:0", "b:0", "c:0"]
    assert [r["continuation"] for r in rows] == prompts.column("continuation").to_pylist()
    assert [r["doc_id"] for r in rows] == [10, 11, 12]
    for r in rows:
        assert r["n_tokens"] == len(r["output_token_ids"]) == len(r["token_logprobs"])
        assert 1 <= r["n_tokens"] <= 6
        assert r["finish_reason"] in ("stop", "length")
        assert all(lp <= 0 for lp in r["token_logprobs"])
        assert r["engine"] == "hf" and r["model_hash"].startswith("sha256:")
        assert r["max_new_tokens"] == 6 and r["temperature"] == 0.0
    assert store.summary["rows_written"] == 3
    run = store.manifest["runs"][0]
    assert run["params"]["sampling"]["max_new_tokens"] == 6
    assert run["parts"] == [{"file": "part-00000.parquet", "rows": 3}]
    assert "torch" in run["sessions"][0]["versions"]


def test_greedy_is_deterministic_and_matches_hf_generate(tiny_model, tmp_path):
    """Greedy rows repeat exactly, and equal transformers' own greedy ``generate``."""
    a = rows_by_id(generate(tiny_model, PROMPTS, tmp_path / "a", max_new_tokens=10).to_arrow())
    b = rows_by_id(
        generate(tiny_model, PROMPTS, tmp_path / "b", max_new_tokens=10, batch_size=3).to_arrow()
    )
    assert_same_rows(a, b)
    loaded = load_model(tiny_model)
    import torch

    for row in a.values():
        ids = torch.tensor([row["prompt_token_ids"]])
        with torch.inference_mode():
            seq = loaded.model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=10, do_sample=False
            )
        assert seq[0, ids.shape[1] :].tolist() == row["output_token_ids"]


def test_sampling_rows_do_not_depend_on_batching(tiny_model, tmp_path):
    """Per-row seeds: batch size 1 vs 4, and a subset of the prompts, give the same rows."""
    kw = {"max_new_tokens": 12, "num_samples": 3, **SAMPLING}
    one = rows_by_id(generate(tiny_model, PROMPTS, tmp_path / "1", batch_size=1, **kw).to_arrow())
    four = rows_by_id(generate(tiny_model, PROMPTS, tmp_path / "4", batch_size=4, **kw).to_arrow())
    subset = [{"id": str(i), "prompt": PROMPTS[i]} for i in (5, 2)]
    sub = rows_by_id(generate(tiny_model, subset, tmp_path / "s", batch_size=2, **kw).to_arrow())
    assert one.keys() == four.keys() and len(one) == len(PROMPTS) * 3
    for gid, row in one.items():
        for other in (four, sub):
            if gid not in other:
                continue
            assert other[gid]["output_token_ids"] == row["output_token_ids"], gid
            assert other[gid]["seed"] == row["seed"]
            assert other[gid]["token_logprobs"] == pytest.approx(row["token_logprobs"], abs=1e-4)
    # samples of one prompt differ from each other, and another base seed changes rows
    assert len({tuple(one[f"0:{s}"]["output_token_ids"]) for s in range(3)}) > 1
    reseeded = rows_by_id(generate(tiny_model, PROMPTS, tmp_path / "r", seed=1, **kw).to_arrow())
    assert any(reseeded[g]["output_token_ids"] != one[g]["output_token_ids"] for g in one)


@pytest.mark.parametrize("sampling", [{}, SAMPLING], ids=["greedy", "sampled"])
def test_logprobs_equal_one_full_forward_pass(tiny_model, tmp_path, sampling):
    """Recorded log-probs are the raw model's (temperature 1, unfiltered), checked by one
    forward pass over prompt + output with no KV cache and no padding."""
    store = generate(tiny_model, PROMPTS, tmp_path / "G", max_new_tokens=12, batch_size=4,
                     **sampling)  # fmt: skip
    model = load_model(tiny_model).model
    for row in store.to_arrow().to_pylist():
        ref = reference_logprobs(model, row["prompt_token_ids"], row["output_token_ids"])
        assert row["token_logprobs"] == pytest.approx(ref, abs=1e-4)
        assert all(math.isfinite(x) for x in row["token_logprobs"])


def test_left_padding_gives_unbatched_outputs(tiny_model, tmp_path):
    """Prompts of 1..8 tokens in one left-padded batch equal each prompt run alone."""
    batched = generate(tiny_model, PROMPTS, tmp_path / "b", max_new_tokens=12, batch_size=16)
    lengths = {len(r) for r in batched.to_arrow().column("prompt_token_ids").to_pylist()}
    assert len(lengths) > 3  # really padded
    alone = generate(tiny_model, PROMPTS, tmp_path / "a", max_new_tokens=12, batch_size=1)
    a, b = rows_by_id(alone.to_arrow()), rows_by_id(batched.to_arrow())
    for gid in a:
        assert a[gid]["output_token_ids"] == b[gid]["output_token_ids"]
        assert a[gid]["token_logprobs"] == pytest.approx(b[gid]["token_logprobs"], abs=1e-4)


def test_stop_strings_cut_output_and_tokens(tiny_model, tmp_path):
    """A stop string taken from a free run's output ends that row right there."""
    free = rows_by_id(generate(tiny_model, PROMPTS, tmp_path / "f", max_new_tokens=12).to_arrow())
    row = max(free.values(), key=lambda r: len(r["output"]))
    words = row["output"].split(" ")
    stop = " " + words[3]  # a word in the middle of the longest output
    cut = rows_by_id(
        generate(tiny_model, PROMPTS, tmp_path / "c", max_new_tokens=12, stop=[stop]).to_arrow()
    )
    got = cut[row["gen_id"]]
    assert got["finish_reason"] == "stop"
    assert got["output"] == row["output"][: row["output"].find(stop)]
    assert stop not in got["output"]
    # ids stop at the token that completed the stop string: a prefix of the free run
    assert got["output_token_ids"] == row["output_token_ids"][: got["n_tokens"]]
    assert got["n_tokens"] < row["n_tokens"]
    for gid, r in free.items():  # rows without the stop string are unchanged
        if stop not in r["output"]:
            assert cut[gid]["output_token_ids"] == r["output_token_ids"]
            assert cut[gid]["output"] == r["output"]


def test_bad_parameters_are_refused(tiny_model, tmp_path):
    from corpusmap.errors import CorpusmapError

    for bad in ({"top_p": 0.0}, {"temperature": -1}, {"num_samples": 0}, {"engine": "tgi"}):
        with pytest.raises(CorpusmapError):
            generate(tiny_model, PROMPTS, tmp_path / "G", **bad)


def test_decoding_passes_the_cache_by_the_name_transformers_wants(tiny_model, tmp_path):
    """No deprecation warning from our decode loop (transformers 5 renamed the KV cache)."""
    import inspect
    import warnings

    from corpusmap.generation.decode import cache_arg

    loaded = load_model(tiny_model)
    params = inspect.signature(loaded.model.forward).parameters
    assert cache_arg(loaded.model) == ("cache" if "cache" in params else "past_key_values")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        store = generate(tiny_model, PROMPTS, tmp_path / "g", max_new_tokens=6)
    assert store.summary["rows_written"] == len(PROMPTS)
