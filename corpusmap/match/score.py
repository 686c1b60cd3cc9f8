"""Score one shard of generations against an index: the rows of the result tables.

For a shard it tokenizes outputs (and prompts, continuations) with the index's
tokenizer, computes matching statistics against the corpus in one batched call,
and derives every measure from them (``measures.py``). Spans get their corpus
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


def _encode(index: Index, texts: list[str]) -> list[np.ndarray]:
    encs = index.tokenizer.encode_batch(texts)
    return [
        np.where((e >= 0) & (e < index.unknown), e, index.unknown).astype(np.int64) for e in encs
    ]


def _flat(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offs = np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64)
    flat = np.concatenate(seqs).astype(np.int64) if seqs else np.zeros(0, np.int64)
    return flat, offs


def _per_seq_max(values: np.ndarray, offs: np.ndarray) -> np.ndarray:
    out = np.zeros(offs.size - 1, dtype=np.int64)
    nonempty = offs[1:] > offs[:-1]
    if values.size:
        out[nonempty] = np.maximum.reduceat(values, offs[:-1][nonempty])
    return out


def _text_measures(
    ms: np.ndarray, flat: np.ndarray, offs: np.ndarray, p: MatchParams
) -> dict[str, pa.Array]:
    """coverage@L, novelty@n, self-repetition; undefined values (too short) become null."""
    lengths = np.asarray(p.coverage_lengths, dtype=np.int64)
    listed = pa.list_(pa.float64())
    return {
        "coverage": pa.array(list(M.coverage(ms, offs, lengths)), listed, from_pandas=True),
        "novelty": pa.array(list(M.novelty(ms, offs, p.max_n)), listed, from_pandas=True),
        "self_repetition": pa.array(
            M.self_repetition(flat, offs, p.repetition_n), pa.float64(), from_pandas=True
        ),
    }


def score_shard(index: Index, rows: pa.Table, p: MatchParams) -> dict[str, pa.Table]:
    """Rows of ``generations``, ``spans`` and ``baseline`` for one shard of generations."""
    outputs = rows.column("output").to_pylist()
    out_toks = _encode(index, outputs)
    flat, offs = _flat(out_toks)
    ms = np.concatenate(index.matching_statistics(out_toks)) if flat.size else flat  # type: ignore[arg-type]
    prompt_flat, prompt_offs = _flat(_encode(index, rows.column("prompt").to_pylist()))
    mp = M.prompt_matching(flat, offs, prompt_flat, prompt_offs)

    seq, pos = M.span_starts(ms, offs, p.min_span)
    lengths = ms[pos]
    span_toks = [flat[a : a + b] for a, b in zip(pos.tolist(), lengths.tolist(), strict=True)]
    gen_ids = rows.column("gen_id").to_pylist()
    spans = pa.table(
        {
            "gen_id": [gen_ids[k] for k in seq.tolist()],
            "start": (pos - offs[seq]).astype(np.int64),
            "length": lengths.astype(np.int64),
            "corpus_count": np.asarray(index.count(span_toks) if span_toks else [], dtype=np.int64),
            "in_prompt": mp[pos] >= lengths,
            "doc_ids": pa.array(
                index.locate_docs(span_toks, limit=p.top_docs) if span_toks else [],
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
        "n_tokens": np.diff(offs),
        "longest_match": _per_seq_max(ms, offs),
        "longest_nonprompt_match": _per_seq_max(nonprompt, offs),
        **_text_measures(ms, flat, offs, p),
    }
    cols.update(_extraction(index, rows, out_toks, p))
    if p.minhash and index.manifest.get("minhash"):
        cols.update(_nearest(index, outputs))
    for name in rows.column_names:  # the dump's own scalar columns ride along (model, ...)
        if name not in cols and not pa.types.is_nested(rows.schema.field(name).type):
            cols[name] = rows.column(name)
    gens = pa.table(cols)
    return {"generations": gens, "spans": spans, "baseline": _baseline(index, rows, p)}


def _continuations(index: Index, rows: pa.Table) -> list[np.ndarray | None] | None:
    if "continuation" not in rows.column_names:
        return None
    texts = rows.column("continuation").to_pylist()
    encs = _encode(index, [t or "" for t in texts])
    return [e if t else None for e, t in zip(encs, texts, strict=True)]


def _extraction(
    index: Index, rows: pa.Table, out_toks: list[np.ndarray], p: MatchParams
) -> dict[str, Any]:
    n = rows.num_rows
    conts = _continuations(index, rows)
    if conts is None:
        return {
            "extracted": pa.nulls(n, pa.bool_()),
            "prefix_match": pa.nulls(n, pa.int64()),
            "token_match_frac": pa.nulls(n, pa.float64()),
            "dup_count": pa.nulls(n, pa.int64()),
        }
    prefix, frac = M.extraction(out_toks, conts)
    extracted = [
        None if c is None else pm >= min(p.extraction_k or len(c), len(c))  # type: ignore[operator]
        for pm, c in zip(prefix, conts, strict=True)
    ]
    # prompt + continuation in index tokens: the ids make_prompts recorded where a row
    # has them, else its texts encoded (joined as tokens: joining texts would fuse
    # tokens at the seam for ids/words)
    src = "original_prompt" if "original_prompt" in rows.column_names else "prompt"
    heads = _encode(index, [t or "" for t in rows.column(src).to_pylist()])
    tails = _encode(index, [t or "" for t in rows.column("continuation").to_pylist()])
    n = rows.num_rows
    ids_a = _column_or_nulls(rows, "index_prompt_ids", n)
    ids_b = _column_or_nulls(rows, "index_continuation_ids", n)
    full = [
        np.asarray(a + b, dtype=np.int64)
        if a is not None and b is not None
        else np.concatenate([h, t])
        for a, b, h, t in zip(ids_a, ids_b, heads, tails, strict=True)
    ]
    dup = index.count(full)
    dup_count = [d if c is not None else None for d, c in zip(dup, conts, strict=True)]  # type: ignore[arg-type]
    return {
        "extracted": pa.array(extracted, pa.bool_()),
        "prefix_match": pa.array(prefix, pa.int64()),
        "token_match_frac": pa.array(frac, pa.float64()),
        "dup_count": pa.array(dup_count, pa.int64()),
    }


def _column_or_nulls(rows: pa.Table, name: str, n: int) -> list[Any]:
    return rows.column(name).to_pylist() if name in rows.column_names else [None] * n


def _nearest(index: Index, outputs: list[str]) -> dict[str, Any]:
    from corpusmap.index.minhash.query import near_duplicates

    found = cast(list[list[dict[str, Any]]], near_duplicates(index, outputs, limit=1))
    return {
        "nearest_doc_id": pa.array([f[0]["doc_id"] if f else None for f in found], pa.int64()),
        "nearest_jaccard": pa.array([f[0]["jaccard"] if f else None for f in found], pa.float64()),
    }


def _baseline(index: Index, rows: pa.Table, p: MatchParams) -> pa.Table | None:
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
    seqs = _encode(index, take.column("continuation").to_pylist())
    ms_list = held_out_matching_statistics(index, seqs, take.column("doc_id").to_pylist())
    flat, offs = _flat(seqs)
    ms = np.concatenate(ms_list) if flat.size else flat
    return pa.table(
        {
            "prompt_id": take.column("prompt_id"),
            "doc_id": take.column("doc_id"),
            "continuation": take.column("continuation"),
            "n_tokens": np.diff(offs),
            "longest_match": _per_seq_max(ms, offs),
            **_text_measures(ms, flat, offs, p),
        }
    )
