"""The report's tables: top patterns, extraction by duplicates, behaviours, copied spans.

Each function selects the columns it wants from a ``sql`` view, putting NULL in
place of any the results folders lack, and resolves ids into something a reader
can use: example gen_ids into their generation outputs, doc ids into the corpus
document's ``id (source)``. An absent view gives an empty list.

What it leaves out: formatting (truncation and escaping happen in ``report_html``).
"""

from __future__ import annotations

from typing import Any

from corpusmap.query.report.data import Results, Series, doc_labels, outputs, q

PATTERN_COLUMNS = (
    "pattern",
    "n",
    "kind",
    "count_corpus",
    "count_generations",
    "expected_generations",
    "log_ratio",
    "g2",
    "p_value",
    "keyness",
    "rank",
    "examples",
    "doc_ids",
    "continuation",
    "corpus_top",
    "model_top",
    "divergence",
)
BEHAVIOR_COLUMNS = (
    "behavior",
    "type",
    "class",
    "feature",
    "count_corpus",
    "corpus_opportunities",
    "rate_corpus",
    "count_generations",
    "n_generations",
    "rate_generations",
    "g2",
    "p_value",
    "mi_bits",
    "mi_low",
    "mi_high",
    "sample_docs",
)


def _dicts(r: Results, query: str) -> list[dict[str, Any]]:
    """Rows of a query as dicts keyed by column name."""
    cur = r.con.execute(query)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _select(r: Results, view: str, wanted: tuple[str, ...]) -> str:
    """A select list of ``wanted`` columns, NULL for those the view lacks."""
    cols = r.columns(view)
    return ", ".join(q(c) if c in cols else f"NULL AS {q(c)}" for c in wanted)


def _order(r: Results, view: str, keys: list[tuple[str, str]]) -> str:
    """An ORDER BY list over the keys (column, direction) the view has."""
    cols = r.columns(view)
    return ", ".join(f"{q(c)} {d} NULLS LAST" for c, d in keys if c in cols) or "1"


def _by_results(r: Results, rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by results folder; each row gains ``folder``, the folder's label."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        row["folder"] = r.folder_label(row["results"])
        groups.setdefault(row["results"], []).append(row)
    return groups


def _ids(value: Any) -> list[int]:
    """Integer ids of a list cell (anything else in it is ignored)."""
    if not isinstance(value, list | tuple):  # a scalar (e.g. a count) holds no ids
        return []
    return [int(v) for v in value if isinstance(v, int)]


def top_patterns(r: Results, per_class: int = 8, n_examples: int = 2) -> list[dict[str, Any]]:
    """The top patterns of each class and results folder, best rank (or keyness) first.

    Each row gains ``example_outputs`` (the outputs of its first example
    generations) and ``sources`` (labels of its corpus documents).
    """
    cols = r.columns("patterns")
    if not {"class", "pattern"} <= cols:
        return []
    order = _order(
        r,
        "patterns",
        [
            ("rank", "ASC"),
            ("keyness", "DESC"),
            ("g2", "DESC"),
            ("count_generations", "DESC"),
            ("pattern", "ASC"),
        ],
    )
    rows = _dicts(
        r,
        f'SELECT results, "class" AS cls, {_select(r, "patterns", PATTERN_COLUMNS)} '
        'FROM patterns WHERE "class" IS NOT NULL QUALIFY row_number() OVER '
        f'(PARTITION BY results, "class" ORDER BY {order}) <= {int(per_class)} '
        f"ORDER BY results, cls, {order}",
    )
    for res, group in _by_results(r, rows).items():
        texts = outputs(r, res, [g for row in group for g in (row["examples"] or [])[:n_examples]])
        docs = doc_labels(r, res, [d for row in group for d in _ids(row["doc_ids"])])
        for row in group:
            row["example_outputs"] = [
                texts.get(str(g), f"(generation {g} not found)")
                for g in (row["examples"] or [])[:n_examples]
            ]
            row["sources"] = [docs[d] for d in _ids(row["doc_ids"])]
    return rows


def extraction_curve(r: Results) -> list[Series]:
    """Extraction rate per corpus duplicate-count bin, per model.

    The bins are those of ``extraction_by_duplicates()`` (``measures.DUPLICATE_BINS``:
    0, 1, 2-3, 4-10, 11-100, >100). Each point is keyed by the bin's index and holds
    ``label``, ``x`` (the geometric mean count in the bin, for a log axis),
    ``rate``, ``n`` and the smallest and largest count seen (``lo``, ``hi``).
    """
    from corpusmap.query.measures import DUPLICATE_BINS, bin_label, duplicate_case

    if not {"extracted", "dup_count"} <= r.columns("generations"):
        return []
    index = {bin_label(lo, hi): b for b, (lo, hi) in enumerate(DUPLICATE_BINS)}
    found: dict[tuple[str, str | None], Series] = {}
    for res, model, label, n, rate, lo, hi, x in r.rows(
        f"SELECT results, model, {duplicate_case()} AS bin, count(*), "
        "avg(extracted::DOUBLE), min(dup_count), max(dup_count), "
        "exp(avg(ln(greatest(dup_count, 1)))) FROM generations "
        "WHERE extracted IS NOT NULL AND dup_count IS NOT NULL GROUP BY ALL ORDER BY ALL"
    ):
        series = found.setdefault((res, model), Series(r.label(res, model), res))
        series.points[index[label]] = {
            "label": label, "x": x, "rate": rate, "n": n, "lo": lo, "hi": hi,
        }  # fmt: skip
    return list(found.values())


def bucket_range(b: int) -> str:
    """The label of duplicate bin b (``measures.DUPLICATE_BINS``): ``1``, ``2-3``, ``>100``..."""
    from corpusmap.query.measures import DUPLICATE_BINS, bin_label

    return bin_label(*DUPLICATE_BINS[b])


def behaviors(r: Results, limit: int = 30) -> list[dict[str, Any]]:
    """Behaviours ranked by explanatory power (mutual information, then G²)."""
    if "behavior" not in r.columns("behaviors"):
        return []
    order = _order(
        r,
        "behaviors",
        [("mi_bits", "DESC"), ("g2", "DESC"), ("behavior", "ASC"), ("results", "ASC")],
    )
    rows = _dicts(
        r,
        f"SELECT results, {_select(r, 'behaviors', BEHAVIOR_COLUMNS)} FROM behaviors "
        "WHERE behavior IS NOT NULL "
        f"ORDER BY {order} LIMIT {int(limit)}",
    )
    for res, group in _by_results(r, rows).items():
        docs = doc_labels(r, res, [d for row in group for d in _ids(row["sample_docs"])])
        for row in group:
            value, ids = row["sample_docs"], _ids(row["sample_docs"])
            if ids:
                row["sample_docs"] = [docs[d] for d in ids]
            elif not isinstance(value, list):  # a single text, or none
                row["sample_docs"] = [] if value is None else [value]
    return rows


def longest_spans(r: Results, limit: int = 15) -> list[dict[str, Any]]:
    """The longest corpus span copied outside the prompt of each generation, longest first,
    with its source documents (one row per generation: a generation's shorter spans
    overlap its longest or say less)."""
    cols = r.columns("spans")
    if "length" not in cols:
        return []
    where = "WHERE length IS NOT NULL"
    where += " AND NOT coalesce(in_prompt, false)" if "in_prompt" in cols else ""
    rows = _dicts(
        r,
        f"SELECT results, {_select(r, 'spans', ('gen_id', 'length', 'corpus_count', 'doc_ids'))}, "
        f"{_select(r, 'spans', ('text',))} FROM spans {where} "
        "QUALIFY row_number() OVER (PARTITION BY results, gen_id ORDER BY length DESC) = 1 "
        f"ORDER BY length DESC NULLS LAST, results, gen_id LIMIT {int(limit)}",
    )
    for res, group in _by_results(r, rows).items():
        docs = doc_labels(r, res, [d for row in group for d in _ids(row["doc_ids"])])
        for row in group:
            row["sources"] = [docs[d] for d in _ids(row["doc_ids"])]
    return rows
