"""``demo``: the whole pipeline on the embedded default, offline, in a few minutes.

1. index the embedded corpus (King James Bible + Wikipedia leads) with the
   ``words`` tokenizer, so spans and patterns read as words;
2. make prompts, each with its true continuation: ``prompts_per_kind`` sampled
   positions, as many from text the corpus repeats, and the openings of a few
   famous chapters (Genesis 1, Psalm 23, John 1...), which a model trained on
   web text is likeliest to have memorised;
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

from corpusmap.errors import CorpusmapError
from corpusmap.index.build import build_index
from corpusmap.index.index import Index, open_index
from corpusmap.prompts import make_prompts

SUMMARY_QUERIES = {
    "copy rate: generations with a corpus match of >= L words not in their prompt": (
        "SELECT L, avg((longest_nonprompt_match >= L)::DOUBLE) AS copy_rate "
        "FROM generations, (VALUES (4), (6), (8), (12)) t(L) GROUP BY L ORDER BY L"
    ),
    "memorization: the first k words of the true continuation reproduced": (
        "SELECT k, count(*) AS prompts, avg((prefix_match >= k)::DOUBLE) AS rate "
        "FROM generations, (VALUES (1), (2), (4), (8)) t(k) "
        "WHERE prefix_match IS NOT NULL GROUP BY k ORDER BY k"
    ),
    "novelty of n-grams: model vs human baseline (held out)": (
        "SELECT n, (SELECT novelty FROM novelty(n)) AS model, "
        "(SELECT novelty FROM baseline_novelty(n)) AS human "
        "FROM (VALUES (1), (2), (3), (4), (6)) t(n) ORDER BY n"
    ),
    "pattern classes": (
        "SELECT class, count(*) AS patterns, any_value(pattern) AS example "
        "FROM patterns GROUP BY class ORDER BY class"
    ),
    "longest copied spans (not from the prompt)": (
        "SELECT s.length, left(s.text, 70) AS span, d.id AS source FROM spans s "
        "JOIN docs d ON d.doc_id = s.doc_ids[1] WHERE NOT s.in_prompt "
        "ORDER BY s.length DESC LIMIT 5"
    ),
}


FAMOUS = [
    "Genesis 1",
    "Exodus 20",
    "Psalms 23",
    "Ecclesiastes 3",
    "Matthew 6",
    "John 1",
    "1 Corinthians 13",
]


def chapter_openings(ix: Index, ids: list[str], prefix: int, continuation: int) -> pa.Table:
    """Prompts at the start of the documents with these ids (same columns as make_prompts)."""
    docs = pa.concat_tables([s.docs.select(["doc_id", "id"]) for s in ix.shards]).to_pylist()
    by_id = {d["id"]: d["doc_id"] for d in docs}
    rows = []
    for k, name in enumerate(i for i in ids if i in by_id):
        toks = ix.document_tokens(by_id[name])[: prefix + continuation]
        prompt = ix.tokenizer.decode(toks[:prefix])
        rows.append(
            {
                "prompt_id": f"f{k:06d}",
                "prompt": prompt,
                "continuation": ix.tokenizer.decode(toks[prefix:]),
                "doc_id": by_id[name],
                "offset": 0,
                "index_prompt_ids": toks[:prefix].tolist(),
                "index_continuation_ids": toks[prefix:].tolist(),
                "corpus_count": ix.count(toks),
                "noise": None,
                "noise_rate": None,
                "original_prompt": prompt,
            }
        )
    return pa.Table.from_pylist(rows)


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
    from corpusmap.generation import generate
    from corpusmap.match import classify
    from corpusmap.query.report import report
    from corpusmap.query.sql import sql

    out = Path(out)
    ix = open_index(build_index("embedded", out / "index", tokenizer="words"))
    prompts_path = out / "prompts.parquet"
    if not prompts_path.is_file():
        ordinary = make_prompts(ix, prompts_per_kind, prefix_tokens, continuation_tokens, seed=0)
        try:  # repeated spans this long are rare in this corpus: take what sampling finds
            repeated = make_prompts(
                ix,
                prompts_per_kind,
                prefix_tokens,
                continuation_tokens,
                seed=1,
                from_duplicated=True,
            )
            ids = [f"r{i:06d}" for i in range(repeated.num_rows)]
            repeated = repeated.set_column(0, "prompt_id", pa.array(ids))
        except CorpusmapError:
            repeated = ordinary.slice(0, 0)
        famous = chapter_openings(ix, FAMOUS, prefix_tokens, continuation_tokens)
        table = pa.concat_tables([ordinary, repeated, famous.cast(ordinary.schema)])
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
    results = classify(
        getattr(gens, "path", out / "generations.parquet"), ix, out / "results", min_span=6
    )
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
