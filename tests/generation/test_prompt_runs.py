"""A store run holds one prompt set; `corpusmap prompts` output feeds `generate` as is.

Regression tests for issue 11: a rerun with another prompts file and the same
parameters silently added rows to run 1 (with row-number ids, the new file's
rows were even skipped as done); and the README pipeline `prompts -> generate`
failed with "prompt columns ['prompt_id'] clash".
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from corpusmap.cli import cli
from corpusmap.errors import CorpusmapError
from corpusmap.generation import GenerationStore, generate
from tests.generation.tiny import PROMPTS

KW = {"max_new_tokens": 4, "part_rows": 2, "batch_size": 2}
OTHER = ["zebra crossing", "purple rain", "a b c"]


def test_other_prompts_with_the_same_parameters_are_refused(tiny_model, tmp_path) -> None:
    out = tmp_path / "G.parquet"
    generate(tiny_model, PROMPTS[:3], out, **KW)
    before = GenerationStore(out).to_arrow().sort_by("gen_id")
    with pytest.raises(CorpusmapError, match=r"run 1 was made from other prompts .*--new-run"):
        generate(tiny_model, OTHER, out, **KW)
    assert GenerationStore(out).to_arrow().sort_by("gen_id").equals(before)


def test_new_run_takes_other_prompts_and_resumes_there(tiny_model, tmp_path) -> None:
    out = tmp_path / "G.parquet"
    generate(tiny_model, PROMPTS[:3], out, **KW)
    store = generate(tiny_model, OTHER, out, **KW, new_run=True)
    assert store.summary["run"] == 2 and store.summary["rows_written"] == 3
    assert store.to_arrow(2).column("prompt").to_pylist() == OTHER
    assert sorted(store.to_arrow(1).column("prompt").to_pylist()) == sorted(PROMPTS[:3])
    again = generate(tiny_model, OTHER, out, **KW, new_run=True)  # resumes run 2
    assert again.summary["run"] == 2 and again.summary["rows_skipped"] == 3
    first = generate(tiny_model, PROMPTS[:3], out, **KW)  # and the first set, run 1
    assert first.summary["run"] == 1 and first.summary["rows_skipped"] == 3


def test_a_disjoint_prompt_set_is_other_prompts(tiny_model, tmp_path) -> None:
    out = tmp_path / "G.parquet"
    generate(tiny_model, [{"id": "a", "prompt": "the quick"}], out, **KW)
    with pytest.raises(CorpusmapError, match="no prompt id of its rows"):
        generate(tiny_model, [{"id": "b", "prompt": "the quick"}], out, **KW)


def test_prompts_output_feeds_generate_and_classify(tiny_model, tmp_path) -> None:
    """The README pipeline, through the real CLI, with no extra flags."""
    run = CliRunner()

    def ok(*args: str) -> str:
        res = run.invoke(cli, list(args))
        assert res.exit_code == 0, res.output
        return res.output

    src = tmp_path / "c.jsonl"
    src.write_text("".join(json.dumps({"text": s}) + "\n" for s in PROMPTS * 3))
    ix, p, g, r = (str(tmp_path / n) for n in ("ix", "p.parquet", "G.parquet", "R"))
    ok("index", "build", str(src), "--out", ix, "--workers", "1", "--no-minhash")
    ok("prompts", ix, "--out", p, "--n", "4", "--prefix-tokens", "6", "--continuation-tokens", "6")
    ok("generate", "--model", tiny_model, "--prompts", p, "--out", g, "--max-new-tokens", "4")
    rows = GenerationStore(g).to_arrow()
    prompts = pq.read_table(p)
    assert sorted(rows.column("prompt_id").to_pylist()) == sorted(
        prompts.column("prompt_id").to_pylist()
    )
    assert "continuation" in rows.column_names
    ok("classify", g, "--index", ix, "--out", r, "--no-patterns")
