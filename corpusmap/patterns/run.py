"""``classify_patterns``: the four classes for a results folder, start to end.

Called by ``corpusmap.classify`` (the match stage) after the per-generation
tables are written. Stages, in the order data flows:

1. index the outputs (``generations_index.build_generations``): G, same tokenizer as T;
2. n-grams of G held by >= k generations, counted in T: shared / idiosyncratic;
3. frequent corpus n-grams and true-continuation n-grams, counted in G: unexpressed;
4. triggers of G with a consistent continuation, checked against T: contingent;
5. closed n-grams only, ranked by keyness, ``top_k`` rows per class with
   examples: ``RESULTS/patterns/part-00000.parquet``;
6. with a behaviour file: ``RESULTS/behaviors/part-00000.parquet``.

Files are written under a hidden temp name and renamed into place.

What it leaves out: resuming (the stage reruns whole; it takes seconds) and
near-duplicate patterns (exact n-grams only).
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
from corpusmap.patterns.classes import (
    CLASSES,
    Block,
    close,
    generation_ngrams,
    triggers,
    unexpressed_ngrams,
)
from corpusmap.patterns.generations_index import build_generations
from corpusmap.patterns.ngrams import GenerationRuns
from corpusmap.patterns.params import PatternParams
from corpusmap.patterns.pattern_table import SCHEMA, build_rows, rank_class
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
    with progress_bar() as prog:
        task = prog.add_task("patterns", total=6, unit="stage")
        tok, batches = encoded or encode_generations(ix.tokenizer, table)
        g = build_generations(out, batches["output"], tok)
        assert p.n_max is not None and p.trigger_n is not None
        runs = GenerationRuns(g, cap=max(p.n_max, p.trigger_n + 1))
        prog.advance(task)
        gen_blocks = generation_ngrams(g, ix, runs, p)
        prog.advance(task)
        un_blocks = unexpressed_ngrams(g, ix, _continuations(table, batches), p)
        prog.advance(task)
        trig = triggers(g, ix, runs, p)
        prog.advance(task)
        before = {c: _members(gen_blocks, c) for c in ("shared", "idiosyncratic")}
        before["contingent"] = len(trig.toks)
        before["unexpressed"] = _members(un_blocks, "unexpressed")
        gen_blocks, un_blocks = close(gen_blocks), close(un_blocks)
        sources = {"shared": gen_blocks, "idiosyncratic": gen_blocks, "contingent": [trig],
                   "unexpressed": un_blocks}  # fmt: skip
        ranked = {c: rank_class(sources[c], c, p.top_k) for c in CLASSES}
        gen_ids = [str(x) for x in table.column("gen_id").to_pylist()]
        _write(out / "patterns", build_rows(ranked, g, ix, runs, gen_ids, p))
        prog.advance(task)
        summary["generation_tokens"] = int(g.doc_lengths.sum())
        summary["generations_index"] = str(g.index.path)
        summary["classes"] = {c: {"ngrams": before[c], "patterns": ranked[c]["total"],
                                  "rows": len(ranked[c]["toks"])} for c in CLASSES}  # fmt: skip
        if behs is not None and feat is not None:
            from corpusmap.patterns.behavior_score import score_behaviors

            btable = score_behaviors(behs, ix, g, table, batches, feat, p)
            _write(out / "behaviors", btable)
            counts: dict[str, int] = {}
            for c in btable.column("class").to_pylist():
                counts[str(c)] = counts.get(str(c), 0) + 1
            summary["behaviors"] = {"file": p.behaviors, "feature": p.feature,
                                    "count": btable.num_rows, "classes": counts}  # fmt: skip
        else:
            (out / "behaviors" / PART).unlink(missing_ok=True)  # no stale table from a past run
        prog.advance(task)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary
