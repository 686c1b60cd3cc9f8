"""``report``: one self-contained HTML page (plots embedded) over results folder(s).

The page answers, in order: how much was generated and how much of it is copied
(summary, longest copied spans); how novel the generations are next to human
text (novelty@n, RAVEN-style); how much of each text lies in long corpus matches
(coverage@L); which patterns fall in each of the four classes, with example
generations and source documents; how extraction grows with the number of corpus
duplicates; which user-defined behaviours the data explain best; and the
top generations with their corpus spans marked as ``corpusmap serve`` marks them.

Several results folders (e.g. two models) are drawn side by side in every plot
and table. Everything is read through the ``sql`` views, so a folder that lacks a
table or column (no patterns, no baseline, no corpus prompts) gives a page with
that section replaced by a one-line note.

    OUT/index.html                      the page: one file to mail (inline CSS, plots as
                                        base64 data URIs, no scripts, no external assets)
    OUT/novelty.png, coverage.png, ...  the same plots as files (for papers); the page
                                        does not need them

What it leaves out: interactivity (no JavaScript) and raw values beyond the top
rows; ask ``corpusmap sql`` for those.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from corpusmap import __version__
from corpusmap.atomic import write_text
from corpusmap.errors import CorpusmapError, require
from corpusmap.query.report.data import open_results
from corpusmap.query.report.html import note, page, section
from corpusmap.query.report.sections import (
    behaviors_section,
    coverage_section,
    extraction_section,
    novelty_section,
    patterns_section,
    summary_section,
)
from corpusmap.query.report.spans_section import spans_section
from corpusmap.query.status import results_status

SECTIONS = (
    ("summary", "Summary", summary_section),
    ("novelty", "Novelty@n", novelty_section),
    ("coverage", "Coverage@L", coverage_section),
    ("patterns", "Pattern classes", patterns_section),
    ("extraction", "Extraction", extraction_section),
    ("behaviors", "Behaviours", behaviors_section),
    ("top", "Top generations", spans_section),
)


def report(
    results: str | os.PathLike | Sequence[str | os.PathLike], out: str | os.PathLike
) -> Path:
    """Write a self-contained HTML report (plots embedded) over one or more results folders.

    Args:
        results: a results folder of ``corpusmap classify``, or a list of them to
            compare side by side (e.g. one per model).
        out: the report folder (created if needed); existing files of the same
            names are replaced.

    Returns:
        The path of ``OUT/index.html``.

    Raises:
        CorpusmapError: a folder is not a results folder, or holds no generations.
    """
    require("matplotlib", "demo")  # before anything is written (the plots import it)
    r = open_results(results)
    out = Path(out)
    foreign = [
        p.name
        for p in (out.iterdir() if out.is_dir() else [])
        if not p.name.startswith(".") and not (p.name == "index.html" or p.suffix == ".png")
    ]
    if foreign:  # a report (maybe interrupted) holds only index.html and plots
        raise CorpusmapError(
            f"{out}: holds files other than a report ({', '.join(sorted(foreign)[:3])}); "
            "choose a new or empty --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    sections = [(ident, title, render(r, out)) for ident, title, render in SECTIONS]
    unfinished = [s["message"] for f in r.folders if (s := results_status(f))["message"]]
    if unfinished:  # a banner first: an interrupted classify must not read as complete
        banner = section("incomplete", "Incomplete results", [note(m) for m in unfinished])
        sections.insert(0, ("incomplete", "Incomplete results", banner))
    folders = ", ".join(f"{n} ({f})" for n, f in zip(r.names, r.folders, strict=True))
    meta = (
        f"results: {folders} · corpusmap {__version__} · "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    index = out / "index.html"
    write_text(index, page("corpusmap report", meta, sections))
    return index
