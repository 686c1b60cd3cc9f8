"""The report's robustness sweep: memorization, copy rate and novelty over prompt noise.

Rows come from the ``noise_sweep(k, L, n)`` macro (``corpusmap prompts --noise
a,b --noise-rate 0,x,y`` makes such prompts), with the measure parameters of
the summary. One plot per measure (``sweep_<measure>.png``), one line per noise
kind and results folder, the noise rate on the x axis; a table lists the points.

What it leaves out: sweeps without the clean rate-0 prompts still plot, but then
a curve starts at the lowest rate swept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpusmap.atomic import atomic_path
from corpusmap.query.measures import COPY_RATE, MEMORIZATION, NOVELTY
from corpusmap.query.report.data import Results, measure_params
from corpusmap.query.report.html import Html, figure, note, pct, table

CURVES = (  # (macro column, measure)
    ("memorization_rate", MEMORIZATION),
    ("copy_rate", COPY_RATE),
    ("novelty", NOVELTY),
)


def sweep_points(r: Results) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """The parameters and the rows of ``noise_sweep(k, L, n)`` (empty without a sweep)."""
    p = measure_params(r)
    cols = r.columns("generations")
    if not {"noise", "noise_rate", "original_prompt_id", "prefix_match"} <= cols:
        return p, []
    cur = r.con.execute(f"SELECT * FROM noise_sweep({p['k']}, {p['L']}, {p['n']})")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    for row in rows:
        row["label"] = f"{row['noise']} ({r.label(row['results'], row['model'])})" if len(
            r.names
        ) > 1 else row["noise"]  # fmt: skip
    return p, rows


def plot_sweep(rows: list[dict[str, Any]], column: str, ylabel: str, path: Path) -> list[str]:
    """One measure over noise rate, a line per noise kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.4), dpi=110)
    labels = sorted({row["label"] for row in rows})
    for label in labels:
        pts = sorted((row["noise_rate"], row[column]) for row in rows if row["label"] == label)
        pts = [(x, y) for x, y in pts if y is not None]
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=label)
    ax.set(xlabel="noise rate (share of characters perturbed)", ylabel=ylabel, ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(title="noise kind")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return labels


def sweep_part(r: Results, out: Path) -> list[str]:
    """The sweep's heading, plots and table (nothing when the results hold no sweep)."""
    p, rows = sweep_points(r)
    if not rows:  # most results hold no sweep: nothing to say
        return []
    parts: list[str] = [Html("<h3 id='sweep'>Robustness: the measures over prompt noise</h3>")]
    parts.append(
        note(
            "Prompts perturbed by each noise kind at each rate (corpusmap prompts --noise); "
            "rate 0 is the clean prompts, shared by every kind's curve."
        )
    )
    for column, m in CURVES:
        label = m.label(p[m.param])
        name = f"sweep_{column}.png"
        labels = plot_sweep(rows, column, label, out / name)
        parts.append(figure(out / name, labels, f"{label} over noise rate; {m.definition}"))
    heads = ["noise kind", "rate", "generations", *(m.label(p[m.param]) for _, m in CURVES)]
    body = [
        [row["label"], row["noise_rate"], row["n"], *(pct(row[c]) for c, _ in CURVES)]
        for row in rows
    ]
    parts.append(table(heads, body))
    return parts
