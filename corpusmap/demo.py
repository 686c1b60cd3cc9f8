"""``demo``: the whole pipeline on the embedded default, offline, in a few minutes.

1. index the embedded corpus (King James Bible + Wikipedia leads) with the
   ``words`` tokenizer, so spans and patterns read as words;
2. make prompts of six kinds (``demo_inputs``): corpus-sampled, Bible-only (2N),
   repeated text, chapter openings, a noise sweep over the openings, and
   instruction-style questions for the chat template;
3. generate greedy continuations with the embedded SmolLM2-135M-Instruct on
   CPU: corpus prompts as plain text, questions through the chat template
   (two generation stores, one per set of generation parameters);
4. classify all of them against the index, with thresholds sized for a run of
   about two hundred generations (``PATTERN_OPTIONS``) and three behaviours;
5. summarise with the measures of ``corpusmap.query.measures`` (each printed
   with its parameter) and write the HTML report.

Every stage writes to ``out``; a rerun finds finished stages and skips them
without loading the model (``stages.json`` records what each stage was run on).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpusmap.atomic import write_json, write_parquet
from corpusmap.demo_inputs import corpus_prompts, question_prompts, write_behaviors
from corpusmap.index.build import build_index
from corpusmap.index.opening import open_index

# Thresholds for ~200 generations of ~25 words (the defaults suit thousands), each a
# `corpusmap classify` flag. n-grams from 2 words: in so little text only bigrams
# are frequent enough to be expected at all (the KJV's ": and" once per ~600 words).
# Triggers of 2 words seen in 3+ generations ("said ," then a quotation mark): at
# this size 3 distinct generations is a recurrence, 5 (the default) almost never
# happens. Unexpressed when expected >= 3 times yet never written: Poisson
# P(0) = e^-3 = 0.0498 < alpha = 0.05 (alpha is also the contingent G² p-value).
PATTERN_OPTIONS: dict[str, Any] = {
    "n_min": 2, "trigger_n": 2, "support": 3, "e_min": 3.0, "alpha": 0.05,
}  # fmt: skip
MIN_SPAN = 6  # words: shortest corpus span recorded
EXTRACTION_K = 8  # words: k of k-extractable
COVERAGE_LENGTHS = [4, 8, 16]


def _stages(out: Path) -> dict[str, Any]:
    path = out / "stages.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _done(out: Path, stage: str, key: Any) -> bool:
    return _stages(out).get(stage) == key


def _mark(out: Path, stage: str, key: Any) -> None:
    write_json(out / "stages.json", _stages(out) | {stage: key}, indent=1)


def _generate(model: str, prompts: Path, store: Path, stage: str, out: Path, **kw: Any) -> None:
    """Generate unless a previous run finished these prompts with these parameters."""
    from corpusmap.generation import generate

    key = {
        "prompts": pq.read_table(prompts).column("prompt").to_pylist(),
        "model": model,
        **kw,
    }
    if store.is_dir() and _done(out, stage, key):
        return
    generate(model, prompts, store, id_field="prompt_id", batch_size=16, **kw)
    _mark(out, stage, key)


def _write(table: pa.Table, path: Path) -> None:
    write_parquet(path, table)


def demo(
    out: str | os.PathLike = "demo",
    *,
    prompts_per_kind: int = 40,
    prefix_tokens: int = 24,
    continuation_tokens: int = 24,
    max_new_tokens: int = 32,
    model: str = "smollm2",
) -> dict[str, Any]:
    """Run the pipeline into ``out``; returns paths, prompt counts and the summary."""
    from corpusmap.generation.store import GenerationStore
    from corpusmap.match import classify
    from corpusmap.match.inputs import fingerprint, load_generations
    from corpusmap.query.report import report
    from corpusmap.query.summary import summary_for

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ix = open_index(build_index("embedded", out / "index", tokenizer="words"))
    corpus, counts = corpus_prompts(ix, prompts_per_kind, prefix_tokens, continuation_tokens)
    questions = question_prompts(prompts_per_kind)
    counts["question"] = questions.num_rows
    for table, name in ((corpus, "prompts.parquet"), (questions, "questions.parquet")):
        if not (out / name).is_file() or not pq.read_table(out / name).equals(table):
            _write(table, out / name)
    gen_kw = {"max_new_tokens": max_new_tokens}
    _generate(
        model,
        out / "prompts.parquet",
        out / "generations.parquet",
        "generate",
        out,
        stop=["\n\n"],
        **gen_kw,
    )
    _generate(
        model,
        out / "questions.parquet",
        out / "chat.parquet",
        "generate-chat",
        out,
        chat_template=True,
        **gen_kw,
    )
    both = pa.concat_tables(
        [GenerationStore(out / s).to_arrow() for s in ("generations.parquet", "chat.parquet")],
        promote_options="default",
    )
    options = PATTERN_OPTIONS | {"behaviors": str(write_behaviors(out))}
    key = {
        "input": fingerprint(load_generations(both)),
        "options": options,
        "k": EXTRACTION_K,
        "L": COVERAGE_LENGTHS,
        "min_span": MIN_SPAN,
    }
    results = out / "results"
    if not _done(out, "classify", key):
        classify(
            both,
            ix,
            results,
            min_span=MIN_SPAN,
            extraction_k=EXTRACTION_K,
            coverage_lengths=COVERAGE_LENGTHS,
            pattern_options=options,
            force=True,
        )
        _mark(out, "classify", key)
    page = report(results, out / "report")
    return {
        "index": str(ix.path),
        "n_docs": ix.n_docs,
        "n_tokens": ix.n_tokens,
        "results": str(results),
        "report": str(page),
        "prompts": counts,
        "thresholds": options,
        "thresholds_text": ", ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in PATTERN_OPTIONS.items()
        ),
        "summary": summary_for(results, examples=5),
    }
