"""The report's "Top generations" section: the most-copying outputs with their spans marked.

Per results folder, the ``TOP`` generations with the longest corpus match
outside their prompt, each output rendered by the explorer's own
:func:`corpusmap.explorer.spans.render_spans` (so the report and ``corpusmap
serve`` mark spans the same way: one ``<mark>`` run per span carrying
``data-start``/``data-length``/``data-count``/``data-in-prompt``, prompt copies
apart). Token positions become characters with the tokenizer the results were
scored with (``words``, ``bytes`` and ``ids`` need no index; an ``hf`` tokenizer
is loaded from the corpus index the manifest names).

What it leaves out: clicking a span (no scripts in the report; ``serve`` does it).
"""

from __future__ import annotations

from pathlib import Path

from corpusmap.explorer.spans import Span, render_spans, token_offsets
from corpusmap.query.report.data import Results, q
from corpusmap.query.report.html import Html, cut, esc, section, skipped

TOP = 5


def _offsets(r: Results, results: str, text: str) -> list[tuple[int, int]]:
    plan = r.manifests.get(results, {}).get("plan", {})
    kind = (plan.get("tokenizer") or {}).get("kind", "words")
    if kind in ("words", "bytes", "ids"):
        return token_offsets(kind, text)
    try:
        from corpusmap.index.opening import open_index

        tok = open_index(plan.get("index", "")).tokenizer
    except Exception:  # no index at hand: the output is shown without marks
        return []
    return token_offsets(kind, text, decode=tok.decode, ids=tok.encode(text))


def spans_section(r: Results, out: Path) -> Html:
    """The top generations of each folder, spans highlighted (see module docstring)."""
    gcols, scols = r.columns("generations"), r.columns("spans")
    need = {"gen_id", "output", "longest_nonprompt_match"}
    if not need <= gcols or not {"gen_id", "start", "length"} <= scols:
        return skipped("top", "Top generations", "No spans to show (no spans table).")
    parts: list[str] = []
    for name in r.names:
        if not r.has("generations", name):
            continue
        rows = r.rows(
            f"SELECT gen_id::VARCHAR, prompt, output, longest_nonprompt_match "
            f"FROM {q(name)}.generations WHERE longest_nonprompt_match > 0 "
            f"ORDER BY longest_nonprompt_match DESC, gen_id LIMIT {TOP}"
        )
        if len(r.names) > 1:
            parts.append(Html(f"<h3>{esc(r.folder_label(name))}</h3>"))
        min_span = int(r.params(name).get("min_span") or 1)
        for gen_id, prompt, output, longest in rows:
            spans = r.rows(
                f"SELECT start, length, corpus_count, in_prompt FROM {q(name)}.spans "
                "WHERE gen_id::VARCHAR = ? ORDER BY start, length DESC",
                [gen_id],
            )
            marks = [Span(int(a), int(b), int(c or 0), bool(p)) for a, b, c, p in spans]
            text = output or ""
            body = render_spans(text, _offsets(r, name, text), marks, length_base=min_span)
            parts.append(
                Html(
                    f'<div class="gen"><p class="meta">generation {esc(gen_id)} · longest copy '
                    f"{int(longest):,} tokens · prompt: {cut(prompt, 200)}</p>"
                    f'<div class="spantext by-length">{body}</div></div>'
                )
            )
    parts.append(
        Html(
            '<p class="meta">Marked: corpus spans (darker = longer; stacked where spans '
            "overlap); dashed blue: spans the prompt already held. Hover a mark for its "
            "length and corpus count.</p>"
        )
    )
    return section("top", "Top generations", parts)
