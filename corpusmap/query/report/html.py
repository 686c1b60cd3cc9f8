"""HTML building blocks of the report: escaping, tables, figures and the page shell.

Every value that reaches the page goes through :func:`cell`, which formats numbers
and escapes text with :func:`html.escape`; only :class:`Html` values (markup this
module or ``report_sections`` built from escaped parts) pass unescaped. The page is
self-contained, one file to mail: inline CSS, no scripts, no external assets;
images are embedded as base64 data URIs.

What it leaves out: any query or plot (``report_data``, ``report_rows``, ``report_plots``).
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from corpusmap.explorer.spans import SPAN_CSS

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       margin: 0; background: #f6f6f4; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px;
  padding-top: 10px; border-top: 2px solid #e4e4e0; } h3 { font-size: 15px; margin: 18px 0 6px; }
nav a { margin-right: 14px; color: #0b5cad; text-decoration: none; }
.meta { color: #666; font-size: 12px; } .note { color: #7a5b00; background: #fff8e1;
  border-left: 3px solid #e0b000; padding: 6px 10px; margin: 8px 0; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 12.5px; width: 100%; }
th, td { border: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0ec; font-weight: 600; } tr:nth-child(even) td { background: #fafaf8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.txt { white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, Menlo,
  Consolas, monospace; font-size: 12px; }
td ul { margin: 0; padding-left: 16px; } td li { margin: 0 0 3px; }
figure { margin: 8px 0 14px; } figure img { max-width: 100%; height: auto;
  border: 1px solid #e4e4e0; } figcaption { color: #555; font-size: 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.card b { display: block; font-size: 20px; }
"""


class Html(str):
    """Markup that is already safe: passed through :func:`cell` without escaping."""


class Num(Html):
    """Safe markup of a formatted number: like :class:`Html`, right-aligned in a table."""


def esc(value: Any) -> Html:
    """Escape any value's text for HTML (quotes too)."""
    return Html(html.escape(str(value), quote=True))


def number(value: Any) -> str:
    """A short text for a number: thousands separators, 3 significant digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.2e}" if value and abs(value) < 1e-3 else f"{value:.3g}"
    return str(value)


def pct(value: float | None) -> Num:
    """A share as a percentage (``–`` when unknown)."""
    return Num("–" if value is None or math.isnan(value) else f"{100 * value:.1f}%")


def pval(value: float | None) -> Num:
    """A p-value in scientific notation (``–`` when unknown)."""
    return Num("–" if value is None else f"{value:.2e}")


def cut(text: Any, limit: int = 160) -> Html:
    """Truncated, escaped text in a monospace span that keeps its whitespace."""
    s = "" if text is None else str(text)
    s = s if len(s) <= limit else s[: limit - 1] + "…"
    return Html(f'<span class="txt">{esc(s)}</span>')


def items(values: Iterable[Any], limit: int = 160) -> Html:
    """A bullet list of truncated, escaped texts (empty for none)."""
    lis = "".join(f"<li>{cut(v, limit)}</li>" for v in values)
    return Html(f"<ul>{lis}</ul>" if lis else "")


def top_continuations(value: Any, limit: int = 3) -> Html:
    """The first few entries of a JSON ``{continuation: weight}``, ``[[text, weight]]`` or
    ``[{"text": ..., "prob": ...}]`` (what classify writes: the text quoted, so a
    punctuation mark reads as one)."""
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return cut(value, 120)
    if isinstance(data, dict):
        pairs = sorted(data.items(), key=lambda kv: -kv[1] if isinstance(kv[1], int | float) else 0)
        entries = [f"{k!s}: {number(v)}" for k, v in pairs[:limit]]
    elif isinstance(data, list):
        entries = [_entry(e) for e in data[:limit]]
    else:
        entries = [] if data is None else [str(data)]
    return items(entries, 80)


def _entry(e: Any) -> str:
    if isinstance(e, dict) and {"text", "prob"} <= e.keys():
        return f"{e['text']!r} {100 * e['prob']:.1f}%"
    return f"{e[0]!s}: {number(e[1])}" if isinstance(e, list | tuple) and len(e) == 2 else str(e)


def cell(value: Any) -> str:
    """One table cell: markup as is, numbers right-aligned, everything else escaped."""
    if isinstance(value, Num):
        return f'<td class="num">{value}</td>'
    if isinstance(value, Html):
        return f"<td>{value}</td>"
    if value is None:
        return '<td class="num">–</td>'
    if isinstance(value, int | float):
        return f'<td class="num">{esc(number(value))}</td>'
    if isinstance(value, list | tuple):
        return f"<td>{esc(', '.join(map(str, value)))}</td>"
    return f"<td>{esc(value)}</td>"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Html:
    """An HTML table with escaped headers and :func:`cell` cells."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def figure(path: Path, labels: Sequence[str], caption: str) -> Html:
    """A PNG embedded as a data URI (the page needs no other file); alt text names the legend.

    ``data-file`` names the PNG written beside the page, the same image as a file.
    """
    alt = f"{caption} ({', '.join(labels)})" if labels else caption
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return Html(
        f'<figure><img src="data:image/png;base64,{data}" data-file="{esc(path.name)}" '
        f'alt="{esc(alt)}"><figcaption>{esc(caption)}</figcaption></figure>'
    )


def note(text: str) -> Html:
    """A short remark, e.g. why a section is skipped."""
    return Html(f'<p class="note">{esc(text)}</p>')


def skipped(ident: str, title: str, why: str) -> Html:
    """A section that has nothing to show, saying why."""
    return section(ident, title, [note(why)])


def section(ident: str, title: str, body: Sequence[str]) -> Html:
    """A titled section with an anchor."""
    return Html(f'<section id="{esc(ident)}"><h2>{esc(title)}</h2>{"".join(body)}</section>')


def page(title: str, meta: str, sections: Sequence[tuple[str, str, Html]]) -> str:
    """The whole document: title, a line of metadata, a contents bar and the sections."""
    nav = "".join(f'<a href="#{esc(i)}">{esc(t)}</a>' for i, t, _ in sections)
    body = "".join(s for _, _, s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}{SPAN_CSS}</style></head>"
        f'<body><main><h1>{esc(title)}</h1><p class="meta">{esc(meta)}</p>'
        f"<nav>{nav}</nav>{body}</main></body></html>\n"
    )
