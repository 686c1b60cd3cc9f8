"""The report's pattern section: class counts and the top patterns of each class.

Each class gets a table of its best-ranked patterns (rank, else keyness) with
their counts, the generations count expected from the corpus rate, log-ratio,
keyness (G²) and p-value, the outputs of example generations and the corpus
documents the pattern comes from. Contingent rows add what the model continues
the trigger with, the top continuations in the corpus and in the generations,
and the divergence between the two.

What it leaves out: patterns below the top rows of a class (``corpusmap sql``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpusmap.query.report import plots
from corpusmap.query.report.data import CLASSES, Results, class_counts
from corpusmap.query.report.html import (
    Html,
    Num,
    cut,
    esc,
    figure,
    items,
    note,
    pval,
    section,
    skipped,
    table,
    top_continuations,
)
from corpusmap.query.report.tables import top_patterns
from corpusmap.query.summary import class_meaning

CLASS_TEXT = {
    "shared": "In the training data and in the generations.",
    "idiosyncratic": "The model's own: recurring in generations and absent from the corpus.",
    "contingent": "A corpus trigger after which the model does something the data does not.",
    "unexpressed": "Frequent in the corpus, never generated.",
}
HEADS = [
    "pattern",
    "kind",
    "corpus count",
    "generations (expected)",
    "log ratio",
    "keyness G²",
    "p-value",
    "example generations",
    "source documents",
]
CONTINGENT_HEADS = ["model continuation", "corpus top", "model top", "divergence"]


def _counts(p: dict[str, Any]) -> Num:
    """Generations count, with the count expected from the corpus rate in brackets."""
    got, expected = p["count_generations"], p["expected_generations"]
    text = "–" if got is None else f"{got:,}"
    return Num(text if expected is None else f"{text} ({expected:.3g})")


def _meaning(r: Results, cls: str) -> str:
    """What the class means: with the thresholds when every folder used the same ones
    (the sentence the demo prints), else the general sentence."""
    found = [(m.get("patterns") or {}).get("thresholds") for m in r.manifests.values()]
    if found and found[0] and all(t == found[0] for t in found):
        text = class_meaning(cls, found[0])
        return f"{text[0].upper()}{text[1:]}."
    return CLASS_TEXT[cls]


def pattern_table(rows: list[dict[str, Any]], cls: str, several: bool) -> Html:
    """The rows of one class (several: a first column names the results folder)."""
    contingent = cls == "contingent"
    heads = ["model"] * several + HEADS + CONTINGENT_HEADS * contingent
    body = []
    for p in rows:
        kind = f"{p['kind'] or ''} {p['n'] if p['n'] is not None else ''}".strip()
        row = [p["folder"]] * several + [
            cut(p["pattern"], 120),
            kind or None,
            p["count_corpus"],
            _counts(p),
            p["log_ratio"],
            p["keyness"] if p["keyness"] is not None else p["g2"],
            pval(p["p_value"]),
            items(p["example_outputs"], 160),
            items(p["sources"], 80),
        ]
        if contingent:
            row += [
                cut(p["continuation"], 80),
                top_continuations(p["corpus_top"]),
                top_continuations(p["model_top"]),
                p["divergence"],
            ]
        body.append(row)
    return table(heads, body)


def patterns_section(r: Results, out: Path) -> Html:
    """Class counts (bar chart, ``classes.png``) and the top patterns of each class."""
    counts = class_counts(r)
    if not counts:
        return skipped(
            "patterns",
            "Pattern classes",
            "No patterns in these results (classify ran with --no-patterns, "
            "or the pattern stage has not run).",
        )
    labels = plots.plot_classes(counts, out / "classes.png")
    parts: list[str] = [figure(out / "classes.png", labels, "Number of patterns in each class")]
    rows = top_patterns(r)
    for cls in [*CLASSES, *sorted({p["cls"] for p in rows} - set(CLASSES))]:
        mine = [p for p in rows if p["cls"] == cls]
        parts.append(Html(f"<h3>{esc(cls.capitalize())}</h3>"))
        if cls in CLASS_TEXT:
            parts.append(Html(f"<p class='meta'>{esc(_meaning(r, cls))}</p>"))
        parts.append(
            pattern_table(mine, cls, len(r.names) > 1) if mine else note(f"No {cls} patterns.")
        )
    return section("patterns", "Pattern classes", parts)
