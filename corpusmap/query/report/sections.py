"""The report's sections, in page order: each queries, plots and renders one question.

Every function takes the open :class:`Results` and the report folder, writes its
PNG (if it has anything to draw) and returns the section's HTML. A section whose
tables or columns are absent or all-null returns a short note instead of a plot,
so a results folder without patterns, behaviours or a human baseline still gives
a complete page.

What it leaves out: writing ``index.html`` (``report.report`` assembles the page).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpusmap.query.measures import COPY_RATE, MEMORIZATION, NOVELTY
from corpusmap.query.report import plots
from corpusmap.query.report.data import Results, Series, coverage_boxes, novelty_curves, summary
from corpusmap.query.report.html import (
    Html,
    Num,
    cut,
    esc,
    figure,
    items,
    note,
    pct,
    pval,
    section,
    skipped,
    table,
)
from corpusmap.query.report.patterns import patterns_section
from corpusmap.query.report.sweep import sweep_part
from corpusmap.query.report.tables import behaviors, bucket_range, extraction_curve, longest_spans

SPAN_HEADS = ["generation", "tokens", "corpus count", "source documents", "text"]
BEHAVIOR_HEADS = [
    "behaviour",
    "type",
    "class",
    "feature",
    "corpus rate",
    "generation rate",
    "G²",
    "p-value",
    "MI bits [CI]",
    "sample docs",
]
__all__ = [
    "behaviors_section",
    "coverage_section",
    "extraction_section",
    "novelty_section",
    "patterns_section",
    "summary_section",
]


def summary_section(r: Results, out: Path) -> Html:
    """Generations, copy rate at each L, memorization rate, and the longest copied spans."""
    p, rows = summary(r)
    heads = ["model", "generations", "mean tokens", "mean longest match"]
    heads += [COPY_RATE.label(p["L"]), MEMORIZATION.label(p["k"]), NOVELTY.label(p["n"])]
    heads += ["self-repetition"]
    body = [
        [
            row["label"],
            row["n"],
            row.get("n_tokens"),
            row.get("longest_match"),
            pct(row.get("copy")),
            Html(
                f"{pct(row['memorized'])} of {row['n_corpus_prompted']:,}"
                if "memorized" in row
                else "– (no corpus prompts)"
            ),
            pct(row.get("novelty")),
            row.get("self_repetition"),
        ]
        for row in rows
    ]
    parts: list[str] = [table(heads, body)]
    glossary = "".join(
        f"<li><b>{esc(m.label(p[m.param]))}</b>: {esc(m.definition)} "
        f"(<code>SELECT * FROM {m.key}({p[m.param]})</code>)</li>"
        for m in (COPY_RATE, MEMORIZATION, NOVELTY)
    )
    parts.append(Html(f"<ul class='meta'>{glossary}</ul>"))
    spans = longest_spans(r)
    parts.append(Html("<h3>Longest copied spans (not in the prompt; longest per generation)</h3>"))
    if spans:
        several = len(r.names) > 1
        heads = ["model"] * several + SPAN_HEADS
        rows_ = [
            [s["folder"]] * several
            + [str(s["gen_id"]), s["length"], s["corpus_count"], items(s["sources"], 80)]
            + [cut(s["text"], 300)]
            for s in spans
        ]
        parts.append(table(heads, rows_))
    else:
        parts.append(note("No corpus spans outside the prompts in these results."))
    return section("summary", "Summary", parts)


def _series_table(series: list[Series], xs: list[int], head: str, fmt: Any) -> Html:
    return table(
        ["series", *(f"{head}{x}" for x in xs)],
        [
            [s.label, *(fmt(s.points[x]["mean"]) if x in s.points else None for x in xs)]
            for s in series
        ],
    )


def novelty_section(r: Results, out: Path) -> Html:
    """novelty@n curves of each model against the human baseline."""
    series = novelty_curves(r)
    if not series:
        return skipped("novelty", "Novelty@n", "No novelty values in these results.")
    labels = plots.plot_novelty(series, out / "novelty.png")
    parts = [figure(out / "novelty.png", labels, "Mean fraction of n-grams absent from the corpus")]
    if not any(s.human for s in series):
        parts.append(
            note(
                "No human baseline in these results (it needs prompts sampled from "
                "the corpus, with their true continuations)."
            )
        )
    xs = sorted({x for s in series for x in s.points})
    parts.append(_series_table(series, xs, "n=", lambda v: Num(f"{v:.3f}")))
    return section("novelty", "Novelty@n", parts)


def coverage_section(r: Results, out: Path) -> Html:
    """Per-generation coverage@L distributions for each L."""
    series = coverage_boxes(r)
    if not series:
        return skipped("coverage", "Coverage@L", "No coverage values in these results.")
    labels = plots.plot_coverage(series, out / "coverage.png")
    xs = sorted({x for s in series for x in s.points})
    return section(
        "coverage",
        "Coverage@L",
        [
            figure(
                out / "coverage.png",
                labels,
                "Share of each text's tokens inside corpus matches ≥ L",
            ),
            Html("<p class='meta'>Mean coverage@L:</p>"),
            _series_table(series, xs, "L=", pct),
        ],
    )


def extraction_section(r: Results, out: Path) -> Html:
    """Extraction rate against the corpus duplicate count of prompt + continuation."""
    series = extraction_curve(r)
    sweep = sweep_part(r, out)
    why = (
        "No extraction results (the prompts were not sampled from the corpus, "
        "or dup_count was not recorded)."
    )
    if not series and sweep:  # no extraction, but a sweep to show
        return section("extraction", "Extraction vs. duplicates", [note(why), *sweep])
    if not series:
        return skipped(
            "extraction",
            "Extraction vs. duplicates",
            "No extraction results (the prompts were not sampled from the corpus, "
            "or dup_count was not recorded).",
        )
    labels = plots.plot_extraction(series, out / "extraction.png")
    buckets = sorted({b for s in series for b in s.points})
    heads = ["corpus duplicates", *(f"{s.label}: extracted (generations)" for s in series)]
    heads[0] += " (bins of extraction_by_duplicates())"
    body: list[list[Any]] = [
        [bucket_range(b)]
        + [
            Num(f"{pct(p['rate'])} ({p['n']:,})") if (p := s.points.get(b)) else None
            for s in series
        ]
        for b in buckets
    ]
    k = r.params(r.names[0]).get("extraction_k")
    what = MEMORIZATION.label(k) if k else "memorization rate (k = whole continuation)"
    caption = f"{what} by corpus duplicate count (marker area: generations)"
    return section(
        "extraction",
        "Extraction vs. duplicates",
        [figure(out / "extraction.png", labels, caption), table(heads, body), *sweep],
    )


def _mi(b: dict[str, Any]) -> Html:
    """Mutual information in bits with its confidence interval."""
    if b["mi_bits"] is None:
        return Num("–")
    ci = "" if b["mi_low"] is None else f" [{b['mi_low']:.3f}, {b['mi_high'] or 0:.3f}]"
    return Num(f"{b['mi_bits']:.3f}{ci}")


def behaviors_section(r: Results, out: Path) -> Html:
    """Behaviours ranked by mutual information with their feature (bits, with CI)."""
    rows = behaviors(r)
    if not rows:
        return skipped(
            "behaviors",
            "Behaviours",
            "No user-defined behaviours in these results (classify --behaviors FILE).",
        )
    several = len(r.names) > 1
    parts: list[str] = []
    if any(b["mi_bits"] is not None for b in rows):
        labels = plots.plot_behaviors(
            rows, out / "behaviors.png", [r.folder_label(n) for n in r.names]
        )
        parts.append(figure(out / "behaviors.png", labels, "Explanatory power (bits, with CI)"))
    else:
        parts.append(note("No explanatory power (mi_bits) recorded; the table is ranked by G²."))
    body = [
        [b["folder"]] * several
        + [b["behavior"], b["type"], b["class"], b["feature"], b["rate_corpus"]]
        + [b["rate_generations"], b["g2"], pval(b["p_value"]), _mi(b), items(b["sample_docs"], 80)]
        for b in rows
    ]
    parts.append(table(["model"] * several + BEHAVIOR_HEADS, body))
    return section("behaviors", "Behaviours", parts)
