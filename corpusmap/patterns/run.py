"""``classify_patterns``: the four classes for a results folder, start to end.

Called by ``corpusmap.classify`` (the match stage) after the per-generation
tables are written. Steps, in the order data flows:

1. index the outputs (``generations_index``): G, same tokenizer as T, one or
   several shards;
2. read G's n-grams held by enough generations (``Generations.ngrams``, exact
   over shards);
3. count those in T: shared / idiosyncratic;
4. frequent corpus n-grams and true-continuation n-grams, counted in G: unexpressed;
5. triggers of G with a consistent continuation, checked against T: contingent;
6. closed n-grams only, ranked by keyness, ``top_k`` rows per class with
   examples: ``RESULTS/patterns/part-00000.parquet``;
7. with a behaviour file: ``RESULTS/behaviors/part-00000.parquet``.

Each step is recorded when it finishes (``steps``): a rerun after a crash, or
with the same inputs, reuses G and the finished steps' results and runs only the
rest; other inputs or thresholds redo what they touch. With ``ray`` G's shards
and the per-shard work run as Ray tasks (``ray_patterns``); the rows are those of
a local run. Files are written under a hidden temp name and renamed into place.

What it leaves out: near-duplicate patterns (exact n-grams only).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from corpusmap.atomic import write_parquet
from corpusmap.index.index import Index
from corpusmap.index.opening import open_index
from corpusmap.patterns.classes import CLASSES, Block, close
from corpusmap.patterns.params import PatternParams
from corpusmap.patterns.pattern_table import SCHEMA, build_rows, rank_class
from corpusmap.patterns.resume import Stage
from corpusmap.progress import progress_bar
from corpusmap.tokenizer import Tokenizer, covering_tokenizer
from corpusmap.tokenizer.batch import TokenBatch, encode_texts

PART = "part-00000.parquet"


def _write(folder: Path, table: pa.Table) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_parquet(folder / PART, table)


def _members(blocks: list[Block], cls: str) -> int:
    return int(sum((b.cls == cls).sum() for b in blocks))


def encode_generations(
    tokenizer: Tokenizer, table: pa.Table
) -> tuple[Tokenizer, dict[str, TokenBatch]]:
    """The run's tokenizer (``covering_tokenizer``) and each text column tokenized once.

    Columns: ``output``, ``prompt`` and, where the table has them, ``continuation``
    and ``original_prompt`` (``None`` texts are empty sequences).
    """
    outputs = [o or "" for o in table.column("output").to_pylist()]
    tok = covering_tokenizer(tokenizer, outputs)
    encoded = {"output": encode_texts(tok, outputs)}
    for name in ("prompt", "continuation", "original_prompt"):
        if name in table.column_names:
            encoded[name] = encode_texts(tok, table.column(name).to_pylist())
    return tok, encoded


def _continuations(table: pa.Table, encoded: dict[str, TokenBatch]) -> TokenBatch | None:
    """True continuations of corpus-sampled prompts (the rows that have one)."""
    if "continuation" not in encoded:
        return None
    has = [i for i, c in enumerate(table.column("continuation").to_pylist()) if c]
    return encoded["continuation"].take(has) if has else None


def check_pattern_inputs(behaviors: str | os.PathLike | None = None, **_: Any) -> None:
    """Read and check the user's behaviour file, so ``classify`` refuses it before writing.

    The pattern stage runs after the match stage has written ``generations/``; a
    bad file found only then would leave a half-made results folder behind.
    """
    if behaviors:
        from corpusmap.patterns.behaviors import load_behaviors

        load_behaviors(str(behaviors))


def classify_patterns(
    out: str | os.PathLike,
    table: pa.Table,
    index: Index | str | os.PathLike,
    *,
    n_min: int | None = None,
    n_max: int | None = None,
    min_generations: int = 3,
    e_min: float = 5.0,
    alpha: float = 0.01,
    support: int = 5,
    eps: float = 0.05,
    trigger_n: int | None = None,
    top_k: int = 100,
    behaviors: str | os.PathLike | None = None,
    feature: str = "behavior",
    corpus_sample: int = 1000,
    seed: int = 0,
    encoded: tuple[Tokenizer, dict[str, TokenBatch]] | None = None,
    ray: str | None = None,
    g_shard_tokens: int | None = None,
) -> dict[str, Any]:
    """Classify the generations' patterns against the corpus and write the tables.

    Args:
        out: the results folder (``patterns/`` and ``behaviors/`` are written in it,
            and the generations index in ``generations_index/``).
        table: the normalised generations (``gen_id``, ``prompt_id``, ``prompt``,
            ``output``, optionally ``continuation``).
        index: the corpus index.
        n_min, n_max, min_generations, e_min, alpha, support, eps, trigger_n,
        top_k, behaviors, feature, corpus_sample, seed: thresholds and options,
            documented with their defaults in ``corpusmap.patterns.params``.
        encoded: the run's tokenizer and token batches from ``encode_generations``
            when the caller has them already (the texts are tokenized once per run).
        ray: ``"local"`` or a cluster address: G's shards and the per-shard work run
            as Ray tasks (``ray_patterns``); the tables are those of a local run.
        g_shard_tokens: tokens per shard of G (default: ``build_index``'s rule);
            the tables do not depend on it.

    Returns:
        A JSON-serialisable summary: the thresholds used, and per class the
        n-grams meeting its rule, the patterns left after keeping closed n-grams,
        and the rows written.
    """
    t0 = time.perf_counter()
    ix = index if isinstance(index, Index) else open_index(index)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    p = PatternParams(
        n_min=n_min,
        n_max=n_max,
        min_generations=min_generations,
        e_min=e_min,
        alpha=alpha,
        support=support,
        eps=eps,
        trigger_n=trigger_n,
        top_k=top_k,
        behaviors=str(behaviors) if behaviors else None,
        feature=feature,
        corpus_sample=corpus_sample,
        seed=seed,
    ).resolve(ix.spec.kind)
    behs = feat = None
    if p.behaviors:  # read and check the user's file before the heavy work
        from corpusmap.patterns.behaviors import load_behaviors
        from corpusmap.patterns.features import output_feature

        behs = load_behaviors(p.behaviors)
        feat = output_feature(p.feature, out, table)
    summary: dict[str, Any] = {"unit": ix.spec.kind, "thresholds": p.as_dict(),
                               "generations": table.num_rows}  # fmt: skip
    outputs = table.column("output").to_pylist()
    if not any((o or "").strip() for o in outputs):
        _write(out / "patterns", SCHEMA.empty_table())
        summary["classes"] = {c: {"ngrams": 0, "patterns": 0, "rows": 0} for c in CLASSES}
        return summary
    encoded = encoded or encode_generations(ix.tokenizer, table)
    with progress_bar() as prog, Stage(out, table, ix, p, encoded, ray, g_shard_tokens) as st:
        task = prog.add_task("patterns", total=7, unit="step")
        g, t = st.generations(), st.corpus
        prog.advance(task)
        grams = st.grams(g)
        prog.advance(task)
        gen_blocks = st.generation_ngrams(g, grams)
        prog.advance(task)
        un_blocks = st.unexpressed(g, _continuations(table, st.batches))
        prog.advance(task)
        trig = st.triggers(g, grams)
        prog.advance(task)
        before = {c: _members(gen_blocks, c) for c in ("shared", "idiosyncratic")}
        before["contingent"] = len(trig.toks)
        before["unexpressed"] = _members(un_blocks, "unexpressed")
        gen_blocks, un_blocks = close(gen_blocks), close(un_blocks)
        sources = {"shared": gen_blocks, "idiosyncratic": gen_blocks, "contingent": [trig],
                   "unexpressed": un_blocks}  # fmt: skip
        ranked = {c: rank_class(sources[c], c, p.top_k) for c in CLASSES}
        gen_ids = [str(x) for x in table.column("gen_id").to_pylist()]
        if st.todo("patterns", out / "patterns" / PART):
            _write(out / "patterns", build_rows(ranked, g, t, gen_ids, p))
            st.done("patterns")
        prog.advance(task)
        summary["generation_tokens"] = int(g.doc_lengths.sum())
        summary["generations_index"] = str(g.index.path)
        summary["classes"] = {c: {"ngrams": before[c], "patterns": ranked[c]["total"],
                                  "rows": len(ranked[c]["toks"])} for c in CLASSES}  # fmt: skip
        if behs is not None and feat is not None:
            if st.todo("behaviors", out / "behaviors" / PART):
                from corpusmap.patterns.behavior_score import score_behaviors

                btable = score_behaviors(behs, t, g, table, st.batches, feat, p)
                _write(out / "behaviors", btable)
                counts: dict[str, int] = {}
                for c in btable.column("class").to_pylist():
                    counts[str(c)] = counts.get(str(c), 0) + 1
                done = {"file": p.behaviors, "feature": p.feature, "count": btable.num_rows,
                        "classes": counts}  # fmt: skip
                st.done("behaviors", summary=done)
            summary["behaviors"] = st.info("behaviors")["summary"]
        else:
            (out / "behaviors" / PART).unlink(missing_ok=True)  # no stale table from a past run
        prog.advance(task)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary
