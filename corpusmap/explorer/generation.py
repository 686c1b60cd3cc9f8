"""One generation: its row, its corpus spans rendered as marks, and what a span points to.

:func:`generation` looks a ``gen_id`` up in one results folder (the first that
has it when none is named), reads its spans in the ``spans`` table, maps their
token positions to characters of the output with the index's tokenizer and
renders the output with :func:`corpusmap.explorer.spans.render_spans`.
:func:`span_sources` answers a click on a span: the span's exact index tokens
(re-tokenized from the output, as classify did) located in the corpus, each
occurrence with its document metadata and context.

What it leaves out: per-token log-probabilities (``logprobs.py``) and HTTP.
"""

from __future__ import annotations

import math
from typing import Any

from corpusmap.explorer import ask
from corpusmap.explorer.spans import Span, render_spans, token_offsets
from corpusmap.explorer.state import BadRequest, Explorer, NotFound, quote

SPAN_COLUMNS = ("start", "length", "corpus_count", "in_prompt", "doc_ids", "text")
MAX_ID = 500


def _clean(value: Any) -> Any:
    """JSON-ready values: NaN to None, lists recursively, others as text if exotic."""
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def find_row(ex: Explorer, gen_id: str, results: str = "") -> tuple[str, dict[str, Any]]:
    """(results name, row) of a generation; 404 when no folder has it."""
    if not gen_id or len(gen_id) > MAX_ID:
        raise NotFound("no such generation (empty or overlong id)")
    names = [results] if results else ex.names
    for name in names:
        ex.folder(name)  # 404 for an unknown results name
        rows = ex.dicts(
            f"SELECT * FROM {quote(name)}.generations WHERE {ex.id_expr('generations')} = ? "
            "LIMIT 1",
            [gen_id],
        )
        if rows:
            return name, {k: _clean(v) for k, v in rows[0].items()}
    raise NotFound(f"no generation with gen_id {gen_id!r} in {', '.join(names)}")


def spans_of(ex: Explorer, name: str, gen_id: str) -> list[dict[str, Any]]:
    """The spans rows of one generation, in order of position (longest first on ties)."""
    if "start" not in ex.columns("spans"):
        return []
    cols = ", ".join(c for c in SPAN_COLUMNS if c in ex.columns("spans"))
    rows = ex.dicts(
        f"SELECT {cols} FROM {quote(name)}.spans WHERE {ex.id_expr('spans')} = ? "
        "ORDER BY start, length DESC",
        [gen_id],
    )
    return [{k: _clean(v) for k, v in r.items()} for r in rows]


def offsets_for(ex: Explorer, name: str, text: str) -> list[tuple[int, int]]:
    """Character range of each index token of ``text`` (words regex if no index is open)."""
    ix = ex.index(name)
    if ix is None:
        kind = ex.manifest(name).get("plan", {}).get("tokenizer", {}).get("kind", "words")
        return token_offsets(kind, text)
    kind = ix.spec.kind
    if kind in ("words", "bytes", "ids"):
        return token_offsets(kind, text)
    ids = ix.tokenizer.encode(text)
    return token_offsets(kind, text, decode=ix.tokenizer.decode, ids=ids)


def generation(ex: Explorer, gen_id: str, results: str = "") -> dict[str, Any]:
    """Everything the generation page shows, JSON-ready (``output_html`` is safe markup)."""
    name, row = find_row(ex, gen_id, results)
    spans = spans_of(ex, name, gen_id)
    output = row.get("output") or ""
    offsets = offsets_for(ex, name, output)
    marks = [
        Span(int(s["start"]), int(s["length"]), int(s.get("corpus_count") or 0),
             bool(s.get("in_prompt")))
        for s in spans
        if s.get("start") is not None and s.get("length") is not None
    ]  # fmt: skip
    for s in spans:
        if s.get("start") is not None and s.get("length") is not None:
            a, b = int(s["start"]), int(s["start"]) + int(s["length"])
            ok = 0 <= a < b <= len(offsets)
            s["begin"], s["end"] = (offsets[a][0], offsets[b - 1][1]) if ok else (None, None)
    from corpusmap.explorer.logprobs import token_logprobs

    tokens = token_logprobs(ex, name, row)
    patterns: list[dict[str, Any]] = []
    if "examples" in ex.columns("patterns"):
        patterns = ex.dicts(
            f'SELECT pattern, "class", kind FROM {quote(name)}.patterns '
            'WHERE list_contains(examples, ?) ORDER BY "class", rank LIMIT 50',
            [gen_id],
        )
    return {
        "results": name,
        "gen_id": gen_id,
        "row": row,
        "spans": spans,
        "patterns": patterns,
        "has_logprobs": bool(tokens),
        "complete": ex.complete(name),
        "output_html": render_spans(output, offsets, marks, tokens, ex.min_span(name)),
    }


def span_sources(
    ex: Explorer, gen_id: str, results: str, start: int, length: int, limit: int
) -> dict[str, Any]:
    """Corpus documents holding the span ``output tokens [start, start+length)``."""
    name, row = find_row(ex, gen_id, results)
    ix = ex.index(name)
    if ix is None:
        raise BadRequest(f"no corpus index for {name}: pass --index DIR")
    toks = ix.encode(row.get("output") or "")
    if start < 0 or length <= 0 or start + length > toks.size:
        raise BadRequest(
            f"span [{start}, {start + length}) is outside the output's {toks.size} tokens"
        )
    span = toks[start : start + length]
    return {
        "results": name,
        "gen_id": gen_id,
        "start": start,
        "length": length,
        "text": ix.tokenizer.decode(span),
        "count": int(ix.count(span)),
        "hits": ask.locate(ix, span, limit),
    }
