"""The report's figures: one PNG per plot, drawn with matplotlib's Agg canvas.

Figures are made with :class:`matplotlib.figure.Figure` on a ``FigureCanvasAgg``
rather than through ``pyplot``, so drawing a report neither needs a display nor
changes the caller's matplotlib backend or global state. Each function takes the
rows of ``report_data``/``report_rows``, writes ``path`` (to a temp name, then
renamed) and returns the legend labels it drew, which the page repeats as alt text.

Models get the ``tab10`` colours in order; human baselines are grey and dashed.
What it leaves out: deciding whether a plot has data (the caller skips empty ones).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpusmap.atomic import atomic_path
from corpusmap.errors import require
from corpusmap.query.report.data import CLASSES, Series

HUMAN = ("#444444", "#888888", "#aaaaaa")


def _figure(width: float = 8.0, height: float = 4.2) -> Any:
    require("matplotlib", "demo")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def _colors(series: list[Series]) -> list[str]:
    """A colour per series: tab10 for models, greys for human baselines."""
    out, k, h = [], 0, 0
    for s in series:
        if s.human:
            out.append(HUMAN[h % len(HUMAN)])
            h += 1
        else:
            out.append(f"C{k % 10}")
            k += 1
    return out


def plot_novelty(series: list[Series], path: Path) -> list[str]:
    """novelty@n curves (x = n, y = mean fraction of novel n-grams), RAVEN-style."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure()
    ax = fig.add_subplot()
    for s, color in zip(series, _colors(series), strict=True):
        xs = sorted(s.points)
        ax.plot(
            xs,
            [s.points[x]["mean"] for x in xs],
            marker="o",
            markersize=4,
            ls="--" if s.human else "-",
            color=color,
            label=s.label,
        )
    ax.set(
        xlabel="n (n-gram length)",
        ylabel="fraction of n-grams not in the corpus",
        ylim=(-0.02, 1.02),
        title="Novelty@n: generations vs human text",
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    _save(fig, path)
    return [s.label for s in series]


def plot_coverage(series: list[Series], path: Path) -> list[str]:
    """Box plots of per-text coverage@L: boxes at quartiles, whiskers at 5% and 95%."""
    from matplotlib.patches import Patch

    lengths = sorted({L for s in series for L in s.points})
    width = 0.8 / len(series)
    fig = _figure(max(8.0, 1.2 * len(lengths) * max(1, len(series) / 2)), 4.2)
    ax = fig.add_subplot()
    colors = _colors(series)
    for j, (s, color) in enumerate(zip(series, colors, strict=True)):
        stats, pos = [], []
        for i, L in enumerate(lengths):
            if L in s.points:
                p = s.points[L]
                lo, q1, med, q3, hi = p["quantiles"]
                stats.append(
                    {
                        "whislo": lo,
                        "q1": q1,
                        "med": med,
                        "q3": q3,
                        "whishi": hi,
                        "mean": p["mean"],
                        "fliers": [],
                    }
                )
                pos.append(i + (j - (len(series) - 1) / 2) * width)
        ax.bxp(
            stats,
            positions=pos,
            widths=width * 0.85,
            patch_artist=True,
            showmeans=True,
            boxprops={"facecolor": color, "alpha": 0.6},
            medianprops={"color": "black"},
            meanprops={
                "marker": "D",
                "markersize": 3,
                "markerfacecolor": "white",
                "markeredgecolor": "black",
            },
        )
    ax.set_xticks(range(len(lengths)), [f"L={L}" for L in lengths])
    ax.set(
        ylabel="share of tokens in a corpus match ≥ L",
        ylim=(-0.02, 1.02),
        title="Coverage@L per text (box: quartiles, whiskers: 5%–95%, ◇ mean)",
    )
    ax.grid(axis="y", alpha=0.3)
    handles = [
        Patch(facecolor=c, alpha=0.6, label=s.label) for s, c in zip(series, colors, strict=True)
    ]
    ax.legend(handles=handles, loc="upper right")
    _save(fig, path)
    return [s.label for s in series]


def plot_classes(counts: dict[str, dict[str, int]], path: Path) -> list[str]:
    """Grouped bars: number of patterns in each class, one colour per results folder."""
    from matplotlib.ticker import MaxNLocator

    names = list(CLASSES) + sorted({c for d in counts.values() for c in d} - set(CLASSES))
    fig = _figure(8.0, 3.6)
    ax = fig.add_subplot()
    width = 0.8 / len(counts)
    for j, (res, d) in enumerate(counts.items()):
        xs = [i + (j - (len(counts) - 1) / 2) * width for i in range(len(names))]
        bars = ax.bar(xs, [d.get(c, 0) for c in names], width * 0.95, label=res, color=f"C{j}")
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(names)), names)
    ax.set(ylabel="patterns", title="Patterns per class")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(y=0.15)
    if len(counts) > 1:
        ax.legend()
    _save(fig, path)
    return list(counts)


def plot_extraction(series: list[Series], path: Path) -> list[str]:
    """Extraction rate against corpus duplicate count (log x), one line per model.

    Marker area grows with the number of generations in the bucket, so a reader
    can tell a rate from one generation from a rate from thousands.
    """
    fig = _figure(8.0, 3.8)
    ax = fig.add_subplot()
    biggest = max(p["n"] for s in series for p in s.points.values())
    for s, color in zip(series, _colors(series), strict=True):
        pts = [s.points[b] for b in sorted(s.points)]
        xs, ys = [p["x"] for p in pts], [p["rate"] for p in pts]
        ax.plot(xs, ys, color=color, label=s.label, alpha=0.8)
        ax.scatter(xs, ys, s=[12 + 150 * p["n"] / biggest for p in pts], color=color, zorder=3)
    ax.set_xscale("log")
    ax.set(
        xlabel="corpus count of prompt + true continuation (log)",
        ylabel="share extracted",
        ylim=(-0.02, 1.02),
        title="Extraction rate vs. corpus duplicates",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    _save(fig, path)
    return [s.label for s in series]


def plot_behaviors(rows: list[dict[str, Any]], path: Path, folders: list[str]) -> list[str]:
    """Horizontal bars of mutual information (bits) with CI whiskers, best at the top.

    With several results folders (their labels in ``folders``), each bar is coloured
    and labelled by its folder.
    """
    rows = [r for r in rows if r.get("mi_bits") is not None][:20]
    several = len(folders) > 1
    fig = _figure(8.0, 1.0 + 0.32 * len(rows))
    ax = fig.add_subplot()
    mi = [r["mi_bits"] for r in rows]
    low = [m if r["mi_low"] is None else r["mi_low"] for m, r in zip(mi, rows, strict=True)]
    high = [m if r["mi_high"] is None else r["mi_high"] for m, r in zip(mi, rows, strict=True)]
    xerr = [
        [max(0.0, m - lo) for m, lo in zip(mi, low, strict=True)],
        [max(0.0, hi - m) for m, hi in zip(mi, high, strict=True)],
    ]
    labels = [f"{r['behavior']} [{r['folder']}]" if several else str(r["behavior"]) for r in rows]
    ax.barh(
        range(len(rows)),
        mi,
        xerr=xerr,
        capsize=3,
        color=[f"C{folders.index(r['folder']) % 10}" for r in rows],
    )
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set(
        xlabel="mutual information with the feature (bits)",
        title="Behaviours ranked by explanatory power",
    )
    ax.grid(axis="x", alpha=0.3)
    _save(fig, path)
    return labels
