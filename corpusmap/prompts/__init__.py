"""``make_prompts``: sample extraction prompts from a corpus index.

The protocol of extraction studies: pick a position in a corpus document, take
``prefix_tokens`` tokens as the prompt and the next ``continuation_tokens`` as the
true continuation (Carlini et al. use 50/50, Pythia 32/32). A model that
reproduces the continuation has memorised it. Positions are uniform over all
valid positions of documents long enough (so long documents get more prompts).

``from_duplicated`` keeps only positions whose prefix+continuation occurs at least
``min_count`` times in the corpus (duplication drives memorisation); every prompt
records that ``corpus_count`` either way. ``noise`` and ``noise_rate`` (one
value or several) turn the table into a robustness sweep (``sweep.py``): each
sampled prompt appears clean (rate 0, when 0 is among the rates) and once per
noise kind and non-zero rate, each row naming its clean original.

What it leaves out: prompts are cut at token boundaries of the index tokenizer;
for ``bytes`` they are moved to the next UTF-8 character start.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from corpusmap.atomic import write_parquet
from corpusmap.errors import CorpusmapError
from corpusmap.index.index import Index
from corpusmap.index.opening import open_index
from corpusmap.prompts.sweep import check, parse_list, sweep

__all__ = ["make_prompts", "sweep"]


def _doc_lengths(index: Index) -> np.ndarray:
    return np.concatenate([s.docs.column("length").to_numpy() for s in index.shards]).astype(
        np.int64
    )


def _sample_positions(
    lengths: np.ndarray, need: int, n: int, rng: np.random.Generator, bytes_index: Index | None
) -> list[tuple[int, int]]:
    """``n`` (doc_id, offset) pairs uniform over valid positions (distinct, sorted)."""
    valid = np.maximum(lengths - need + 1, 0)
    total = int(valid.sum())
    if total == 0:
        raise CorpusmapError(
            f"no document has {need} tokens; lower --prefix-tokens/--continuation-tokens"
        )
    picks = np.unique(rng.integers(0, total, size=min(n, total)))
    cum = np.cumsum(valid)
    docs = np.searchsorted(cum, picks, side="right")
    offs = picks - (cum[docs] - valid[docs])
    out = []
    for d, o in zip(docs.tolist(), offs.tolist(), strict=True):
        if bytes_index is not None:  # move to a UTF-8 character start
            toks = bytes_index.document_tokens(d)
            while o < len(toks) - need and 0x80 <= toks[o] < 0xC0:
                o += 1
        out.append((d, o))
    return out


def make_prompts(
    index: Index | str | os.PathLike,
    n: int,
    prefix_tokens: int = 32,
    continuation_tokens: int = 32,
    *,
    seed: int = 0,
    min_doc_tokens: int | None = None,
    from_duplicated: bool = False,
    min_count: int = 2,
    sources: Sequence[str] | None = None,
    noise: str | Sequence[str] | None = None,
    noise_rate: float | str | Sequence[float] = 0.05,
    out: str | os.PathLike | None = None,
) -> pa.Table:
    """Sample ``n`` prompts with their true continuations from corpus documents.

    Args:
        index: an open index or its folder.
        n: number of prompts.
        prefix_tokens / continuation_tokens: lengths in index tokens.
        seed: sampling seed (same seed, same prompts).
        min_doc_tokens: only documents at least this long (default: prefix + continuation).
        from_duplicated: only positions whose prefix+continuation occurs >= ``min_count`` times.
        sources: only documents whose ``source`` is one of these (e.g. ``embedded:kjv``).
        noise / noise_rate: noise kinds (``char-swap|char-drop|case|whitespace``) and
            rates, one value each or lists (``"char-swap,case"``, ``"0,0.05,0.1"``):
            every sampled prompt once per kind and non-zero rate, plus clean at rate 0.
        out: also write the prompts to this Parquet file.

    Returns:
        A table: prompt_id, prompt, continuation, doc_id, offset, index_prompt_ids,
        index_continuation_ids, corpus_count, noise, noise_rate, original_prompt,
        original_prompt_id. With noise it has ``n x (kinds x non-zero rates [+ 1])`` rows.
    """
    ix = index if isinstance(index, Index) else open_index(index)
    if n <= 0 or prefix_tokens <= 0 or continuation_tokens < 0:
        raise CorpusmapError("--n and --prefix-tokens must be positive")
    kinds, rates = parse_list(noise), parse_list(noise_rate, float)
    check(kinds, rates)  # before any sampling
    need = prefix_tokens + continuation_tokens
    lengths = _doc_lengths(ix)
    if min_doc_tokens:
        lengths = np.where(lengths >= min_doc_tokens, lengths, 0)
    if sources:
        src = pa.concat_arrays([s.docs.column("source").combine_chunks() for s in ix.shards])
        lengths = np.where(
            np.isin(np.asarray(src.to_pylist(), dtype=object), list(sources)), lengths, 0
        )
    rng = np.random.default_rng(seed)
    pool = n * (200 if from_duplicated else 1)
    positions = _sample_positions(lengths, need, pool, rng, ix if ix.spec.kind == "bytes" else None)
    spans = [ix.document_tokens(d)[o : o + need] for d, o in positions]
    counts = np.asarray(ix.count(spans) if spans else [], dtype=np.int64)
    order = rng.permutation(len(positions)).tolist()
    if from_duplicated:
        order = [i for i in order if counts[i] >= min_count]
        if not order:
            raise CorpusmapError(
                f"no sampled span occurs {min_count}+ times; the corpus may have no duplicates"
            )
    chosen = sorted(order[:n], key=lambda i: positions[i])
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "prompt_id",
            "prompt",
            "continuation",
            "doc_id",
            "offset",
            "index_prompt_ids",
            "index_continuation_ids",
            "corpus_count",
            "original_prompt",
        )
    }
    for k, i in enumerate(chosen):
        d, o = positions[i]
        toks = spans[i]
        prompt = ix.tokenizer.decode(toks[:prefix_tokens])
        rows["prompt_id"].append(f"p{k:06d}")
        rows["original_prompt"].append(prompt)
        rows["prompt"].append(prompt)
        rows["continuation"].append(ix.tokenizer.decode(toks[prefix_tokens:]))
        rows["doc_id"].append(d)
        rows["offset"].append(o)
        rows["index_prompt_ids"].append(toks[:prefix_tokens].tolist())
        rows["index_continuation_ids"].append(toks[prefix_tokens:].tolist())
        rows["corpus_count"].append(int(counts[i]))
    table = sweep(pa.table(rows), kinds, rates, seed)
    table = table.replace_schema_metadata(
        {
            "corpusmap.index": str(ix.path),
            "corpusmap.index_fingerprint": ix.manifest["corpus_fingerprint"],
        }
    )
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        write_parquet(out, table)
    return table
