"""``demo``: the whole pipeline on the embedded default, offline, in a few minutes.

1. index the embedded corpus (King James Bible + Wikipedia leads) with the
   ``words`` tokenizer, so spans and patterns read as words;
2. sample prompts from it (``prompts_per_kind`` ordinary positions plus as many
   from text the corpus repeats, where memorisation is likeliest), each with its
   true continuation;
3. generate greedy continuations with the embedded SmolLM2-135M-Instruct on CPU;
4. classify them against the index (spans, coverage, novelty, extraction, the
   four pattern classes);
5. print a short SQL summary and write the HTML report.

Every stage writes to ``out`` and is skipped or resumed when rerun.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpusmap.index.build import build_index
from corpusmap.index.index import open_index
from corpusmap.prompts import make_prompts

SUMMARY_QUERIES = {
    "copy rate (>= 8 words copied, not from the prompt)": "SELECT * FROM copy_rate(8)",
    "memorization rate (first 8 words of the true continuation)": (
        "SELECT * FROM memorization_rate(8)"
    ),
    "novelty of 4-grams: model vs human baseline": (
        "SELECT 'model' AS text, novelty FROM novelty(4) "
        "UNION ALL SELECT 'human', novelty FROM baseline_novelty(4)"
    ),
    "pattern classes": (
        "SELECT class, count(*) AS patterns FROM patterns GROUP BY class ORDER BY class"
    ),
    "longest copied spans": (
        "SELECT s.length, left(s.text, 70) AS span, d.id AS source FROM spans s "
        "JOIN docs d ON d.doc_id = s.doc_ids[1] WHERE NOT s.in_prompt "
        "ORDER BY s.length DESC LIMIT 5"
    ),
}


def demo(
    out: str | os.PathLike = "demo",
    *,
    prompts_per_kind: int = 24,
    prefix_tokens: int = 24,
    continuation_tokens: int = 24,
    max_new_tokens: int = 40,
    model: str = "smollm2",
) -> dict[str, Any]:
    """Run the pipeline into ``out``; returns paths and the SQL summary tables."""
    from corpusmap.generate import generate
    from corpusmap.match import classify
    from corpusmap.query.report import report
    from corpusmap.query.sql import sql

    out = Path(out)
    ix = open_index(build_index("embedded", out / "index", tokenizer="words"))
    prompts_path = out / "prompts.parquet"
    if not prompts_path.is_file():
        ordinary = make_prompts(ix, prompts_per_kind, prefix_tokens, continuation_tokens, seed=0)
        repeated = make_prompts(
            ix, prompts_per_kind, prefix_tokens, continuation_tokens, seed=1, from_duplicated=True
        )
        ids = [f"r{i:06d}" for i in range(repeated.num_rows)]
        repeated = repeated.set_column(0, "prompt_id", pa.array(ids))
        table = pa.concat_tables([ordinary, repeated])
        pq.write_table(table, prompts_path)
    gens = generate(
        model,
        prompts_path,
        out / "generations.parquet",
        max_new_tokens=max_new_tokens,
        batch_size=16,
        id_field="prompt_id",
        stop=["\n\n"],
    )
    results = classify(getattr(gens, "path", out / "generations.parquet"), ix, out / "results")
    page = report(results, out / "report")
    summary = {title: sql(results, q).fetchall() for title, q in SUMMARY_QUERIES.items()}
    columns = {title: sql(results, q).columns for title, q in SUMMARY_QUERIES.items()}
    return {
        "index": str(ix.path),
        "n_docs": ix.n_docs,
        "n_tokens": ix.n_tokens,
        "results": str(results),
        "report": str(page),
        "summary": summary,
        "columns": columns,
    }
