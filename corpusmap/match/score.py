"""Score one shard of generations against an index: the rows of the result tables.

For a shard it takes the outputs (and prompts, continuations) tokenized once for
the run, in the index's own ids (``Index.own_ids``), computes matching statistics
against the corpus in one batched call, and derives every measure from them
(``measures.py``). Spans get their corpus
count and source documents in two more batched calls. When prompts came from the
corpus, extraction is measured and the true continuations are scored as a human
baseline (held out from their own document, ``heldout.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pyarrow as pa

from corpusmap.index.index import Index
from corpusmap.match import measures as M
from corpusmap.match.heldout import held_out_matching_statistics
from corpusmap.tokenizer.batch import TokenBatch


@dataclass
class MatchParams:
    """Thresholds of the per-generation measures (defaults depend on the tokenizer unit)."""

    min_span: int = 0
    coverage_lengths: list[int] = field(default_factory=list)
    max_n: int = 0
    top_docs: int = 3
    repetition_n: int = 4
    extraction_k: int | None = None
    minhash: bool = True

    def resolve(self, unit: str) -> MatchParams:
        """Fill unset fields: bytes are ~5x finer than word-like tokens."""
        is_bytes = unit == "bytes"
        return MatchParams(
            min_span=self.min_span or (50 if is_bytes else 10),
            coverage_lengths=self.coverage_lengths
            or ([20, 50, 100, 200] if is_bytes else [5, 10, 20, 50]),
            max_n=self.max_n or (16 if is_bytes else 10),
            top_docs=self.top_docs,
            repetition_n=self.repetition_n or (16 if is_bytes else 4),
            extraction_k=self.extraction_k,
            minhash=self.minhash,
        )


def _text_measures(ms: np.ndarray, batch: TokenBatch, p: MatchParams) -> dict[str, pa.Array]:
    """coverage@L, novelty@n, self-repetition; undefined values (too short) become null."""
    lengths = np.asarray(p.coverage_lengths, dtype=np.int64)
    flat, offs = batch.flat, batch.offsets
    listed = pa.list_(pa.float64())
    return {
        "coverage": pa.array(list(M.coverage(ms, offs, lengths)), listed, from_pandas=True),
        "novelty": pa.array(list(M.novelty(ms, offs, p.max_n)), listed, from_pandas=True),
        "self_repetition": pa.array(
            M.self_repetition(flat, offs, p.repetition_n), pa.float64(), from_pandas=True
        ),
    }


def score_shard(
    index: Index, rows: pa.Table, encoded: dict[str, TokenBatch], p: MatchParams
) -> dict[str, pa.Table]:
    """Rows of ``generations``, ``spans`` and ``baseline`` for one shard of generations.

    ``encoded`` holds this shard's texts tokenized once for the run (``output``,
    ``prompt``, and ``continuation``/``original_prompt`` where the rows have them).
    """
    own = {name: index.own_ids(batch) for name, batch in encoded.items()}
    out = own["output"]
    flat, offs = out.flat, out.offsets
    ms = index.matching_statistics(out)
    mp = M.prompt_matching(flat, offs, own["prompt"].flat, own["prompt"].offsets)

    seq, pos = M.span_starts(ms, offs, p.min_span)
    lengths = ms[pos]
    span_toks = out.spans(pos, lengths)
    gen_ids = rows.column("gen_id").to_pylist()
    spans = pa.table(
        {
            "gen_id": [gen_ids[k] for k in seq.tolist()],
            "start": (pos - offs[seq]).astype(np.int64),
            "length": lengths.astype(np.int64),
            "corpus_count": index.count(span_toks),
            "in_prompt": mp[pos] >= lengths,
            "doc_ids": pa.array(
                index.locate_docs(span_toks, limit=p.top_docs) if len(span_toks) else [],
                type=pa.list_(pa.int64()),
            ),
            "text": [index.tokenizer.decode(t) for t in span_toks],
        }
    )

    nonprompt = np.where(mp < ms, ms, 0)
    cols: dict[str, Any] = {
        "gen_id": rows.column("gen_id"),
        "prompt_id": rows.column("prompt_id"),
        "prompt": rows.column("prompt"),
        "output": rows.column("output"),
        "n_tokens": out.lengths,
        "longest_match": out.per_item_max(ms),
        "longest_nonprompt_match": out.per_item_max(nonprompt),
        **_text_measures(ms, out, p),
    }
    cols.update(_extraction(index, rows, own, p))
    if p.minhash and index.manifest.get("minhash"):
        cols.update(_nearest(index, out))
    for name in rows.column_names:  # the dump's own scalar columns ride along (model, ...)
        if name not in cols and not pa.types.is_nested(rows.schema.field(name).type):
            cols[name] = rows.column(name)
    gens = pa.table(cols)
    return {"generations": gens, "spans": spans, "baseline": _baseline(index, rows, own, p)}


def _extraction(
    index: Index, rows: pa.Table, own: dict[str, TokenBatch], p: MatchParams
) -> dict[str, Any]:
    n = rows.num_rows
    if "continuation" not in own:
        return {
            "extracted": pa.nulls(n, pa.bool_()),
            "prefix_match": pa.nulls(n, pa.int64()),
            "token_match_frac": pa.nulls(n, pa.float64()),
            "dup_count": pa.nulls(n, pa.int64()),
        }
    texts = rows.column("continuation").to_pylist()
    conts = [c if t else None for c, t in zip(own["continuation"], texts, strict=True)]
    prefix, frac = M.extraction(list(own["output"]), conts)
    extracted = [
        None if c is None else pm >= min(p.extraction_k or len(c), len(c))  # type: ignore[operator]
        for pm, c in zip(prefix, conts, strict=True)
    ]
    # prompt + continuation in index tokens: the ids make_prompts recorded where a row
    # has them, else its texts encoded (joined as tokens: joining texts would fuse
    # tokens at the seam for ids/words)
    heads = own["original_prompt" if "original_prompt" in own else "prompt"]
    full = heads.join(own["continuation"])
    ids_a = _column_or_nulls(rows, "index_prompt_ids", n)
    ids_b = _column_or_nulls(rows, "index_continuation_ids", n)
    pairs = enumerate(zip(ids_a, ids_b, strict=True))
    recorded = [k for k, (a, b) in pairs if a is not None and b is not None]
    if recorded:  # the ids make_prompts recorded: joining texts would fuse tokens at the seam
        full = _replace_items(full, recorded, [ids_a[k] + ids_b[k] for k in recorded])
    dup = index.count(full).tolist()
    dup_count = [d if c is not None else None for d, c in zip(dup, conts, strict=True)]  # type: ignore[arg-type]
    return {
        "extracted": pa.array(extracted, pa.bool_()),
        "prefix_match": pa.array(prefix, pa.int64()),
        "token_match_frac": pa.array(frac, pa.float64()),
        "dup_count": pa.array(dup_count, pa.int64()),
    }


def _column_or_nulls(rows: pa.Table, name: str, n: int) -> list[Any]:
    return rows.column(name).to_pylist() if name in rows.column_names else [None] * n


def _replace_items(batch: TokenBatch, where: list[int], items: list[list[int]]) -> TokenBatch:
    """``batch`` with the items at ``where`` replaced by ``items``."""
    seqs: list[Any] = list(batch)
    for k, ids in zip(where, items, strict=True):
        seqs[k] = ids
    return TokenBatch.from_items(seqs)


def _nearest(index: Index, outputs: TokenBatch) -> dict[str, Any]:
    from corpusmap.index.minhash.query import near_duplicates

    found = cast(list[list[dict[str, Any]]], near_duplicates(index, outputs, limit=1))
    return {
        "nearest_doc_id": pa.array([f[0]["doc_id"] if f else None for f in found], pa.int64()),
        "nearest_jaccard": pa.array([f[0]["jaccard"] if f else None for f in found], pa.float64()),
    }


def _baseline(
    index: Index, rows: pa.Table, own: dict[str, TokenBatch], p: MatchParams
) -> pa.Table | None:
    """The true continuations of corpus-sampled prompts, scored held out from their doc."""
    if not {"continuation", "doc_id"} <= set(rows.column_names):
        return None
    seen: dict[str, int] = {}
    for i, (pid, cont, doc) in enumerate(
        zip(
            rows.column("prompt_id").to_pylist(),
            rows.column("continuation").to_pylist(),
            rows.column("doc_id").to_pylist(),
            strict=True,
        )
    ):
        if cont and doc is not None and pid not in seen:
            seen[pid] = i
    if not seen:
        return None
    take = rows.take(list(seen.values()))
    seqs = own["continuation"].take(list(seen.values()))
    ms = held_out_matching_statistics(index, seqs, take.column("doc_id").to_pylist())
    return pa.table(
        {
            "prompt_id": take.column("prompt_id"),
            "doc_id": take.column("doc_id"),
            "continuation": take.column("continuation"),
            "n_tokens": seqs.lengths,
            "longest_match": seqs.per_item_max(ms),
            **_text_measures(ms, seqs, p),
        }
    )
