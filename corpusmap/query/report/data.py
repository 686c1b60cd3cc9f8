"""The report's numbers: every query the report runs over the ``sql`` views.

:class:`Results` wraps the DuckDB connection of :func:`corpusmap.query.sql.connect`
with what the report needs to degrade gracefully: which views exist (per results
folder too) and which columns each has. The functions below each answer one
section's question and return plain Python rows; an absent table or column gives
an empty answer, never an error, and the section then says it was skipped.

What it leaves out: it draws nothing and writes nothing (``report_plots`` and
``report_html`` do), and it reads whole columns only as aggregates, so a report over
millions of generations stays cheap (coverage boxes are quantiles, not raw values).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpusmap.errors import CorpusmapError
from corpusmap.query.sql import _results_name, connect

CLASSES = ("shared", "idiosyncratic", "contingent", "unexpressed")
QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95]  # whisker, box, median, box, whisker


def q(name: str) -> str:
    """Quote a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Series:
    """One curve or box group: a model's generations or a human baseline."""

    label: str
    results: str
    human: bool = False
    points: dict[int, Any] = field(default_factory=dict)  # x (n or L) -> value or stats


@dataclass
class Results:
    """Open results folders: the connection, their manifests and what views they hold."""

    con: Any
    folders: list[Path]
    names: list[str]  # the ``results`` column value of each folder, in order
    manifests: dict[str, dict[str, Any]]
    views: set[tuple[str, str]]  # (schema, view); the union views live in "main"
    labels: dict[tuple[str, str | None], str] = field(default_factory=dict)
    _columns: dict[str, set[str]] = field(default_factory=dict)

    def has(self, view: str, schema: str = "main") -> bool:
        """Whether the view exists (in the union schema, or one folder's schema)."""
        return (schema, view) in self.views

    def columns(self, view: str) -> set[str]:
        """Column names of a union view (empty when the view is absent)."""
        if view not in self._columns:
            cols: set[str] = set()
            if self.has(view):
                cols = {d[0] for d in self.con.execute(f"SELECT * FROM {view} LIMIT 0").description}
            self._columns[view] = cols
        return self._columns[view]

    def rows(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and fetch all rows."""
        return self.con.execute(query, params or []).fetchall()

    def params(self, name: str) -> dict[str, Any]:
        """The ``plan.params`` of one results folder's manifest."""
        return self.manifests.get(name, {}).get("plan", {}).get("params", {}) or {}

    def label(self, results: str, model: str | None) -> str:
        """The legend name of one (results folder, model) pair."""
        return self.labels.get((results, model)) or (f"{results}/{model}" if model else results)

    def folder_label(self, results: str) -> str:
        """The name of a results folder: its model's label if it holds one model."""
        mine = [label for (res, _), label in self.labels.items() if res == results]
        return mine[0] if len(mine) == 1 else results

    def human_label(self, results: str) -> str:
        """The legend name of one folder's human baseline (``_series`` shortens a lone one)."""
        return f"human ({self.folder_label(results)})"


def _labels(pairs: list[tuple[str, str | None]]) -> dict[tuple[str, str | None], str]:
    """Model names if they tell the pairs apart, else folder names if they do, else both."""
    models = [m for _, m in pairs]
    if all(models) and len(set(models)) == len(pairs):
        return {p: str(p[1]) for p in pairs}
    if len({res for res, _ in pairs}) == len(pairs):
        return {p: p[0] for p in pairs}
    return {(res, m): f"{res}/{m}" if m else res for res, m in pairs}


def open_results(results: str | os.PathLike | Sequence[str | os.PathLike]) -> Results:
    """Open results folder(s) for the report; refuses folders without generations."""
    folders = (
        [Path(results)] if isinstance(results, str | os.PathLike) else [Path(r) for r in results]
    )
    con = connect(folders)
    taken: set[str] = set()
    names = [_results_name(f, taken) for f in folders]  # the same names connect() gave
    manifests = {
        n: json.loads((f / "manifest.json").read_text(encoding="utf-8"))
        for n, f in zip(names, folders, strict=True)
    }
    views = {
        (s, t)
        for s, t in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }
    if ("main", "generations") not in views:
        raise CorpusmapError(
            f"{', '.join(map(str, folders))}: no generations to report on; "
            "run `corpusmap classify` first"
        )
    pairs = con.execute("SELECT DISTINCT results, model FROM generations ORDER BY ALL").fetchall()
    return Results(con, folders, names, manifests, views, _labels(pairs))


def measure_params(r: Results) -> dict[str, int]:
    """k, L and n of the summary measures (``measures.default_params``, first folder)."""
    from corpusmap.query.measures import default_params

    median = r.rows("SELECT median(n_tokens) FROM generations")[0][0] if (
        "n_tokens" in r.columns("generations")
    ) else None  # fmt: skip
    return default_params(r.manifests.get(r.names[0], {}), median)


def summary(r: Results) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Per model: generations, mean length, copy rate (L), memorization rate (k), novelty (n).

    Each rate comes from its ``corpusmap sql`` macro with the parameters of
    ``measure_params``, so the report, the demo's console and SQL agree.

    Returns:
        The parameters, and one dict per (results, model).
    """
    cols = r.columns("generations")
    p = measure_params(r)
    metrics = [
        c
        for c in ("n_tokens", "longest_match", "longest_nonprompt_match", "self_repetition")
        if c in cols
    ]
    means = "".join(f", avg({q(c)}::DOUBLE)" for c in metrics)
    out: dict[tuple[str, str | None], dict[str, Any]] = {}
    for res, model, n, *values in r.rows(
        f"SELECT results, model, count(*){means} FROM generations GROUP BY ALL ORDER BY ALL"
    ):
        out[(res, model)] = {
            "results": res,
            "model": model,
            "label": r.label(res, model),
            "n": n,
            **dict(zip(metrics, values, strict=True)),
        }
    for column, query in (
        ("longest_nonprompt_match", f"SELECT * FROM copy_rate({p['L']})"),
        ("prefix_match", f"SELECT * FROM memorization_rate({p['k']})"),
        ("novelty", f"SELECT * FROM novelty({p['n']})"),
    ):
        for res, model, n, value in _macro_rows(r, column, query):
            if column == "longest_nonprompt_match":
                out[(res, model)]["copy"] = value
            elif column == "prefix_match":
                out[(res, model)].update(memorized=value, n_corpus_prompted=n)
            else:
                out[(res, model)]["novelty"] = value
    return p, list(out.values())


def _macro_rows(r: Results, column: str, query: str) -> list[tuple[Any, ...]]:
    """A measure macro's rows; none when its column is absent or all null (untyped)."""
    import duckdb

    if column not in r.columns("generations"):
        return []
    try:
        return r.rows(query)
    except duckdb.Error:  # a column of nulls only has no type to aggregate
        return []


def _per_index(r: Results, view: str, column: str) -> list[tuple[Any, ...]]:
    """Quantiles, mean and count of a list column, per (results, model, 1-based index)."""
    model = "model" if view == "generations" else "NULL::VARCHAR"
    return r.rows(
        f"SELECT results, model, i, quantile_cont(v, {QUANTILES}), avg(v), count(v) FROM ("
        f"  SELECT results, {model} AS model, unnest({q(column)}) AS v,"
        f"         generate_subscripts({q(column)}, 1) AS i FROM {view}"
        ") WHERE v IS NOT NULL AND NOT isnan(v) GROUP BY ALL ORDER BY ALL"
    )


def _series(r: Results, column: str, x_of: Any) -> list[Series]:
    """Model then human-baseline series of a per-index list column (novelty, coverage)."""
    found: dict[tuple[str, str | None, bool], Series] = {}
    for view, human in (("generations", False), ("baseline", True)):
        if column not in r.columns(view):
            continue
        for res, model, i, qs, mean, n in _per_index(r, view, column):
            x = x_of(res, i)
            if x is None:
                continue
            key = (res, model, human)
            if key not in found:
                label = r.human_label(res) if human else r.label(res, model)
                found[key] = Series(label, res, human)
            found[key].points[x] = {"quantiles": qs, "mean": mean, "n": n}
    humans = [s for s in found.values() if s.human]
    if len(humans) == 1:
        humans[0].label = "human baseline"
    return list(found.values())


def novelty_curves(r: Results) -> list[Series]:
    """Mean fraction of novel n-grams at each n, per model and per human baseline."""
    return _series(r, "novelty", lambda res, i: int(i))


def coverage_boxes(r: Results) -> list[Series]:
    """Per-generation coverage@L distributions (quantiles), per model and baseline."""

    def length(res: str, i: int) -> int | None:
        lengths = r.params(res).get("coverage_lengths") or []
        return int(lengths[i - 1]) if i <= len(lengths) else None

    return _series(r, "coverage", length)


def class_counts(r: Results) -> dict[str, dict[str, int]]:
    """Number of patterns in each class, per results folder (by its label, in folder order)."""
    if "class" not in r.columns("patterns"):
        return {}
    out: dict[str, dict[str, int]] = {r.folder_label(n): {} for n in r.names}
    for res, cls, n in r.rows(
        'SELECT results, "class", count(*) FROM patterns WHERE "class" IS NOT NULL '
        "GROUP BY ALL ORDER BY ALL"
    ):
        out[r.folder_label(res)][cls] = n
    return out if any(out.values()) else {}


def doc_labels(r: Results, results: str, ids: Sequence[int]) -> dict[int, str]:
    """``id (source)`` of corpus documents, from that folder's index (doc id if unknown)."""
    ids = sorted({int(i) for i in ids if i is not None})
    labels = {i: f"doc {i}" for i in ids}
    if ids and r.has("docs", results):
        for doc_id, ident, source in r.rows(
            f"SELECT doc_id, id, source FROM {q(results)}.docs WHERE list_contains(?, doc_id)",
            [ids],
        ):
            labels[int(doc_id)] = f"{ident} ({source})" if source else str(ident)
    return labels


def outputs(r: Results, results: str, gen_ids: Sequence[Any]) -> dict[str, str]:
    """Generation outputs by gen_id (as text) for one results folder."""
    ids = sorted({str(g) for g in gen_ids if g is not None})
    if not ids or "output" not in r.columns("generations"):
        return {}
    return dict(
        r.rows(
            f"SELECT gen_id::VARCHAR, output FROM {q(results)}.generations "
            "WHERE list_contains(?, gen_id::VARCHAR)",
            [ids],
        )
    )
