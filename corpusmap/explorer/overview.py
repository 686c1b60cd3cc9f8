"""The overview, patterns and document pages' data, from the report's own queries.

The numbers are those of ``corpusmap report`` (``query/report/data.py`` and
``tables.py``: copy rate at each L, memorization, novelty@n next to the human
baseline, class counts, top patterns), so the explorer and the report never
disagree. The novelty plot is an inline SVG drawn here (no plotting library, no
image file), every label escaped.

What it leaves out: rendering (templates) and the generations table (``table.py``).
"""

from __future__ import annotations

import html
import json
from typing import Any

from corpusmap.errors import CorpusmapError
from corpusmap.explorer.state import Explorer, NotFound
from corpusmap.query.report.data import CLASSES, class_counts, novelty_curves, open_results, summary
from corpusmap.query.report.tables import top_patterns

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")


def _open(ex: Explorer) -> Any:
    try:
        return open_results(ex.folders)
    except CorpusmapError:
        return None  # no generations yet (classify just started): pages say so


def novelty_svg(series: list[dict[str, Any]], width: int = 560, height: int = 240) -> str:
    """A line chart of mean novelty@n per series (humans dashed grey), as SVG markup."""
    xs = sorted({int(x) for s in series for x in s["points"]})
    if not xs:
        return ""
    left, right, top, bottom = 44, 150, 12, 30
    w, h = width - left - right, height - top - bottom

    def px(x: int) -> float:
        return left + (w * (xs.index(x) / max(1, len(xs) - 1)))

    def py(v: float) -> float:
        return top + h * (1 - v)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="mean novelty at each n">'
    ]
    for v in (0, 0.25, 0.5, 0.75, 1):
        y = py(v)
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{v:g}</text>'
        )
    for x in xs:
        parts.append(
            f'<text x="{px(x):.1f}" y="{height - 10}" class="tick" text-anchor="middle">{x}</text>'
        )
    model_k = 0
    for k, s in enumerate(series):
        colour = "#777" if s["human"] else COLOURS[model_k % len(COLOURS)]
        model_k += 0 if s["human"] else 1
        pts = " ".join(
            f"{px(int(x)):.1f},{py(float(v)):.1f}"
            for x, v in sorted(s["points"].items())
            if v is not None
        )
        dash = ' stroke-dasharray="5 4"' if s["human"] else ""
        parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        y = top + 14 + 16 * k
        parts.append(
            f'<line x1="{left + w + 10}" x2="{left + w + 28}" y1="{y - 4}" y2="{y - 4}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        parts.append(
            f'<text x="{left + w + 32}" y="{y}" class="legend">{html.escape(s["label"])}</text>'
        )
    parts.append(
        f'<text x="{left + w / 2:.0f}" y="{height}" class="tick" text-anchor="middle">n</text>'
    )
    parts.append("</svg>")
    return "".join(parts)  # fmt: skip


def overview(ex: Explorer) -> dict[str, Any]:
    """Per results folder: size, completeness, copy/memorization rates, novelty, classes."""
    folders = [
        {"name": n, "folder": str(f), "complete": ex.complete(n)}
        for n, f in zip(ex.names, ex.folders, strict=True)
    ]
    r = _open(ex)
    if r is None:
        return {"folders": folders, "lengths": [], "summary": [], "novelty": [], "classes": {},
                "svg": ""}  # fmt: skip
    lengths, rows = summary(r)
    series = [
        {"label": s.label, "results": s.results, "human": s.human,
         "points": {int(x): p["mean"] for x, p in sorted(s.points.items())}}
        for s in novelty_curves(r)
    ]  # fmt: skip
    return {
        "folders": folders,
        "lengths": lengths,
        "summary": rows,
        "novelty": series,
        "classes": class_counts(r),
        "svg": novelty_svg(series),
    }


def _top(value: Any) -> list[tuple[str, Any]]:
    """(continuation, weight) pairs of a ``corpus_top``/``model_top`` JSON cell."""
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return [(str(value), None)]
    if isinstance(data, dict):
        return sorted(data.items(), key=lambda kv: -kv[1] if isinstance(kv[1], int | float) else 0)
    if isinstance(data, list):
        return [(str(e[0]), e[1]) if isinstance(e, list | tuple) and len(e) == 2 else (str(e), None)
                for e in data]  # fmt: skip
    return []


def patterns(ex: Explorer, per_class: int = 12) -> dict[str, Any]:
    """The top patterns of each class (with examples and sources) and the class counts."""
    r = _open(ex)
    if r is None:
        return {"classes": list(CLASSES), "counts": {}, "by_class": {}}
    rows = top_patterns(r, per_class=per_class, n_examples=3)
    by_class: dict[str, list[dict[str, Any]]] = {c: [] for c in CLASSES}
    for row in rows:
        row["corpus_top"] = _top(row.get("corpus_top"))
        row["model_top"] = _top(row.get("model_top"))
        row["doc_ids"] = [int(d) for d in row.get("doc_ids") or [] if isinstance(d, int)]
        row["examples"] = [str(g) for g in row.get("examples") or []]
        by_class.setdefault(str(row["cls"]), []).append(row)
    return {"classes": list(CLASSES), "counts": class_counts(r), "by_class": by_class}


def document(ex: Explorer, results: str, doc_id: int) -> dict[str, Any]:
    """One corpus document of a results folder's index: metadata and text."""
    ix = ex.index(results)
    if ix is None:
        raise NotFound(f"no corpus index for {results}: pass --index DIR")
    if not 0 <= doc_id < ix.n_docs:
        raise NotFound(f"no document {doc_id} in {ix.path} ({ix.n_docs:,} documents)")
    info = {k: v for k, v in ix.document_info(doc_id).items() if k != "meta"}
    meta = ix.document_info(doc_id).get("meta")
    return {"results": results, "doc_id": doc_id, "info": info, "meta": meta,
            "text": ix.document(doc_id)}  # fmt: skip
