"""Questions to an index: count, locate (with context) and next-token distribution.

Each answer is plain JSON-ready data for one side, the corpus index or the
generations index (``RESULTS/generations_index``, whose document k is the k-th
generation of the results folder, so its hits link back to generations).
Located occurrences carry the document's metadata and the match cut out of
its text with ``CONTEXT`` tokens either side (decoded by the index's own
tokenizer: for ``words`` indexes, original spacing is re-made by its rule).

What it leaves out: escaping (templates and ``textContent`` in the browser do
it) and the page around it (``app.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from corpusmap.explorer.state import BadRequest, Explorer, quote

CONTEXT = 40  # tokens of document shown either side of a match
MAX_QUERY = 2000  # characters of a query text
MAX_LIMIT = 50


def tokens_of(ix: Any, text: str) -> np.ndarray:
    """The index tokens of a query text (400 on empty or oversized text)."""
    if not text.strip():
        raise BadRequest("give a text to look up: ?q=...")
    if len(text) > MAX_QUERY:
        raise BadRequest(f"query text too long ({len(text):,} characters, at most {MAX_QUERY:,})")
    toks = ix.encode(text)  # the index's own tokenizer; ids it cannot hold become unknown
    if toks.size == 0:
        raise BadRequest("the text has no tokens for this index's tokenizer")
    return toks


def limit_of(raw: str | None, default: int = 10) -> int:
    """A result limit from the query string, 1..MAX_LIMIT."""
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"limit={raw!r} is not a number") from None
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}")
    return value


def count(ix: Any, toks: np.ndarray) -> dict[str, Any]:
    """Occurrences of the n-gram, with its length in tokens."""
    return {"tokens": int(toks.size), "count": int(ix.count(toks))}


def ntd(ix: Any, toks: np.ndarray, limit: int) -> dict[str, Any]:
    """What follows the longest suffix of the context that occurs (``Index.ntd``)."""
    res = ix.ntd(toks, limit=limit)
    return {
        "length_used": int(res["length_used"]),
        "total": int(res["total"]),
        "distribution": [
            {"text": d["text"], "count": int(d["count"]), "prob": float(d["prob"])}
            for d in res["distribution"]
        ],
    }


def locate(ix: Any, toks: np.ndarray, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` occurrences: document metadata and the match in context."""
    hits = ix.locate(toks, limit=limit)
    n = int(toks.size)
    dec = ix.tokenizer.decode
    out = []
    for h in hits:
        doc = ix.document_tokens(int(h["doc_id"]))
        o = int(h["offset"])
        out.append(
            {
                "doc_id": int(h["doc_id"]),
                "offset": o,
                "id": h["id"],
                "source": h["source"],
                "row": h["row"],
                "meta": h["meta"],
                "length": int(doc.size),
                "before": ("… " if o > CONTEXT else "") + dec(doc[max(0, o - CONTEXT) : o]),
                "match": dec(doc[o : o + n]),
                "after": dec(doc[o + n : o + n + CONTEXT])
                + (" …" if o + n + CONTEXT < doc.size else ""),
            }
        )
    return out


def link_generations(ex: Explorer, name: str, hits: list[dict[str, Any]]) -> None:
    """Add the ``gen_id`` of generations-index hits (document k = k-th generation row)."""
    for h in hits:
        row = int(h["row"]) - 1 if h.get("row") is not None else int(h["doc_id"])
        found = ex.rows(
            f"SELECT gen_id::VARCHAR FROM {quote(name)}.generations LIMIT 1 OFFSET ?", [row]
        )
        h["gen_id"] = found[0][0] if found else None


def ask(ex: Explorer, name: str, text: str, what: str, limit: int) -> dict[str, Any]:
    """One question (``count``, ``locate`` or ``ntd``) to both sides of a results folder."""
    if what not in ("count", "locate", "ntd"):
        raise BadRequest(f"unknown question {what!r}: count, locate or ntd")
    answer: dict[str, Any] = {"q": text, "what": what, "results": name}
    for side in ("corpus", "generations"):
        ix = ex.index(name, side)
        if ix is None:
            answer[side] = None
            continue
        toks = tokens_of(ix, text)
        if what == "count":
            answer[side] = count(ix, toks)
        elif what == "ntd":
            answer[side] = ntd(ix, toks, limit)
        else:
            hits = locate(ix, toks, limit)
            if side == "generations":
                link_generations(ex, name, hits)
            answer[side] = {"tokens": int(toks.size), "hits": hits}
    if answer["corpus"] is None:
        raise BadRequest(
            f"no corpus index for {name}: its manifest names none that exists; pass --index DIR"
        )
    return answer
