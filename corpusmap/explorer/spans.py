"""Render a generation's text with its corpus spans as nested ``<mark>`` elements.

Shared by the explorer's generation page and the static report, so both show
spans the same way. Pure functions: text in, escaped HTML out, nothing heavy
imported (the words regex only when asked for word offsets).

A span is ``(start, length)`` in index tokens of the text (a row of the
``spans`` table). Token positions become character ranges through ``offsets``
(one ``(begin, end)`` per token, see :func:`token_offsets`). Spans may overlap
(two maximal matches that share tokens) and HTML elements may not, so the text
is cut at every span border and each span is a run of ``<mark>`` fragments
sharing one ``data-span`` number: a fragment sits inside every span that covers
it, so overlap reads as a darker (stacked) background. Each fragment carries::

    data-span       the span's number in this text (all its fragments share it)
    data-start      first token of the span          data-length   its tokens
    data-count      corpus occurrences               data-in-prompt  "true"/"false"
    data-lbin / data-cbin   log2 bucket (0..5) of length / count, for colouring

Prompt copies get ``class="span prompt"``, corpus copies ``class="span corpus"``.
Optional ``tokens`` (character range and log-probability of model tokens) add
``<span class="tok" title="logprob …">`` around each token, cut the same way.

What it leaves out: colours (CSS, in the page that embeds the markup) and any
lookup of documents (the explorer's ``/api/span``).
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Span:
    """One corpus span of a text, in index tokens."""

    start: int
    length: int
    count: int = 0
    in_prompt: bool = False


def token_offsets(
    kind: str, text: str, decode: Any = None, ids: Any = None
) -> list[tuple[int, int]]:
    """Character range of each index token of ``text``, by tokenizer kind.

    ``words``: the tokenizer's own regex (its scanner equals it); ``bytes``: one
    range per UTF-8 byte (bytes inside a character share its range); ``ids``:
    whitespace-separated fields. Other kinds (``hf``) need ``ids`` and ``decode``:
    each token ends where the decoded prefix ends (streaming detokenization).
    """
    if kind == "words":
        from corpusmap.tokenizer.words import WORD_RE

        return [m.span() for m in WORD_RE.finditer(text)]
    if kind == "bytes":
        out: list[tuple[int, int]] = []
        for i, ch in enumerate(text):
            out.extend([(i, i + 1)] * len(ch.encode("utf-8", "surrogatepass")))
        return out
    if kind == "ids":
        import re

        return [m.span() for m in re.finditer(r"\S+", text)]
    if decode is None or ids is None:
        return []
    out, prev = [], 0
    for k in range(1, len(ids) + 1):
        end = min(len(decode(ids[:k])), len(text))
        out.append((prev, max(prev, end)))
        prev = max(prev, end)
    return out


def _bin(value: int) -> int:
    """A log2 bucket 0..5 of a positive number (1, 2-3, 4-7, ..., >= 32)."""
    return min(5, int(math.log2(value))) if value and value > 0 else 0


def _attrs(k: int, s: Span, length_base: int) -> str:
    kind = "prompt" if s.in_prompt else "corpus"
    title = f"{s.length} tokens · {s.count:,} in corpus"
    title += " · also in the prompt" if s.in_prompt else ""
    return (
        f'<mark class="span {kind}" data-span="{k}" data-start="{s.start}" '
        f'data-length="{s.length}" data-count="{s.count}" '
        f'data-in-prompt="{"true" if s.in_prompt else "false"}" '
        f'data-lbin="{_bin(max(1, s.length // max(1, length_base)))}" '
        f'data-cbin="{_bin(s.count)}" title="{html.escape(title)}">'
    )


def render_spans(
    text: str,
    offsets: Sequence[tuple[int, int]],
    spans: Sequence[Span],
    tokens: Sequence[tuple[int, int, float]] | None = None,
    length_base: int = 1,
) -> str:
    """``text`` escaped, with each span as ``<mark>`` fragments (see the module docstring).

    Spans whose tokens fall outside ``offsets`` are dropped (a text re-tokenized
    differently than when it was scored); ``length_base`` scales the length
    buckets (e.g. the minimum span length, so the shortest spans get bucket 0).
    """
    n = len(offsets)
    items: list[tuple[int, int, str, int]] = []  # (char begin, char end, open tag, order)
    for k, s in enumerate(spans):
        if s.length <= 0 or s.start < 0 or s.start + s.length > n:
            continue
        a, b = offsets[s.start][0], offsets[s.start + s.length - 1][1]
        if b > a:
            items.append((a, b, _attrs(k, s, length_base), k))
    for j, (a, b, lp) in enumerate(tokens or ()):
        if b > a:
            tip = html.escape(f"log p = {lp:.3f} (p = {math.exp(lp):.3g})")
            tag = f'<span class="tok" data-tok="{j}" data-logprob="{lp:.4f}" title="{tip}">'
            items.append((a, b, tag, -1))
    cuts = sorted({0, len(text), *(x for a, b, _, _ in items for x in (a, b))})
    # spans before tokens, then outer (longer) first: a fragment nests inside what covers it
    items.sort(key=lambda it: (it[3] < 0, it[0], -it[1], it[3]))
    by_begin = sorted(range(len(items)), key=lambda i: items[i][0])
    active: list[int] = []
    opened: list[str] = []
    nxt = 0
    out: list[str] = []
    for lo, hi in itertools.pairwise(cuts):
        while nxt < len(by_begin) and items[by_begin[nxt]][0] <= lo:
            active.append(by_begin[nxt])
            nxt += 1
        active = [i for i in active if items[i][1] > lo]
        covering = [items[i][2] for i in sorted(active)]
        keep = 0  # elements still open from the last piece stay open (no needless fragments)
        while keep < min(len(opened), len(covering)) and opened[keep] == covering[keep]:
            keep += 1
        out.append(_closing(opened[keep:]) + "".join(covering[keep:]) + html.escape(text[lo:hi]))
        opened = covering
    return "".join(out) + _closing(opened)


def _closing(opened: list[str]) -> str:
    """Closing tags for ``opened``, innermost first."""
    return "".join("</mark>" if t.startswith("<mark") else "</span>" for t in reversed(opened))


# Span colours for a page without the explorer's stylesheet (the static report).
SPAN_CSS = """
.spantext { white-space: pre-wrap; word-break: break-word; font-family: Georgia, serif;
  font-size: 15px; line-height: 1.9; padding: 8px 12px; border: 1px solid #ddd;
  border-radius: 6px; background: #fffdf8; margin-bottom: 10px; }
mark.span { color: inherit; padding: 2px 0; background: rgba(255, 170, 60, .22);
  border-bottom: 2px solid rgba(200, 90, 0, .75); }
mark.span.prompt { background: rgba(90, 130, 220, .14);
  border-bottom: 2px dashed rgba(40, 80, 180, .8); }
.by-length mark.span.corpus[data-lbin="1"] { background: rgba(255, 150, 40, .32); }
.by-length mark.span.corpus[data-lbin="2"] { background: rgba(255, 120, 30, .42); }
.by-length mark.span.corpus[data-lbin="3"] { background: rgba(240, 80, 30, .45); }
.by-length mark.span.corpus[data-lbin="4"] { background: rgba(220, 40, 40, .45); }
.by-length mark.span.corpus[data-lbin="5"] { background: rgba(190, 0, 60, .5); }
"""
