"""The generations table: filters, sorting and paging done by DuckDB.

:func:`parse_filters` turns query-string parameters into a :class:`Filters`
(refusing bad values with :class:`BadRequest`), and :func:`page_of_generations`
runs two queries over the ``generations`` view: ``count(*)`` under the filters
and one page of rows (``ORDER BY ... LIMIT ... OFFSET``), with texts cut to a
preview length in SQL. The page therefore never loads all rows, whatever their
number. Every value reaches DuckDB as a bound parameter; sort columns come from
a fixed list.

Filters: results folder, model, prompt kind (``corpus``: corpus-sampled prompts
with a true continuation, ``free``: the others), extracted, longest match range,
novelty@n range, class of a pattern the generation exemplifies (the
``patterns.examples`` lists: a pattern's sample generations, not every
generation containing it), and free text (case-insensitive, prompt or output).

What it leaves out: rendering (templates) and one generation's page (``generation.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from corpusmap.explorer.state import BadRequest, Explorer

SORTABLE = (
    "gen_id",
    "n_tokens",
    "longest_match",
    "longest_nonprompt_match",
    "novelty",
    "self_repetition",
    "prefix_match",
    "dup_count",
)
PREVIEW = 140
MAX_PER_PAGE = 500
CLASSES = ("shared", "idiosyncratic", "contingent", "unexpressed")
# (conditions, arguments, manifest stamp) -> row count; ("choices", stamp) -> form values
_COUNTS: dict[tuple[Any, ...], Any] = {}


@dataclass
class Filters:
    """One request's table state (each field mirrors a query-string parameter)."""

    results: str = ""
    model: str = ""
    kind: str = ""  # "", "corpus", "free"
    extracted: str = ""  # "", "yes", "no"
    min_match: int | None = None
    max_match: int | None = None
    n: int = 0  # novelty@n (0: the largest n)
    min_novelty: float | None = None
    max_novelty: float | None = None
    cls: str = ""
    q: str = ""
    sort: str = "longest_nonprompt_match"
    order: str = "desc"
    page: int = 1
    per_page: int = 50

    def query_string(self, **change: Any) -> str:
        """This state as a query string, with some fields changed (for links)."""
        from urllib.parse import urlencode

        data = asdict(self) | change
        return urlencode({k: v for k, v in data.items() if v not in ("", None)})


def _number(params: Any, name: str, kind: type, lo: float | None = None) -> Any:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise BadRequest(f"{name}={raw!r} is not a number") from None
    if lo is not None and value < lo:
        raise BadRequest(f"{name} must be at least {lo}")
    return value


def _choice(params: Any, name: str, allowed: tuple[str, ...], default: str = "") -> str:
    value = (params.get(name) or default).strip()
    if value not in allowed:
        listed = ", ".join(a or "''" for a in allowed)
        raise BadRequest(f"{name}={value!r}: choose one of {listed}")
    return value


def parse_filters(params: Any) -> Filters:
    """Validate table parameters (a mapping of query-string values)."""
    return Filters(
        results=(params.get("results") or "").strip(),
        model=(params.get("model") or "").strip(),
        kind=_choice(params, "kind", ("", "corpus", "free")),
        extracted=_choice(params, "extracted", ("", "yes", "no")),
        min_match=_number(params, "min_match", int, 0),
        max_match=_number(params, "max_match", int, 0),
        n=_number(params, "n", int, 0) or 0,
        min_novelty=_number(params, "min_novelty", float),
        max_novelty=_number(params, "max_novelty", float),
        cls=_choice(params, "cls", ("", *CLASSES)),
        q=(params.get("q") or "")[:500],
        sort=_choice(params, "sort", SORTABLE, "longest_nonprompt_match"),
        order=_choice(params, "order", ("asc", "desc"), "desc"),
        page=_number(params, "page", int, 1) or 1,
        per_page=min(MAX_PER_PAGE, _number(params, "per_page", int, 1) or 50),
    )


def _where(ex: Explorer, f: Filters, cols: set[str]) -> tuple[str, list[Any], str]:
    """SQL conditions, their parameters and the novelty expression."""
    conds: list[str] = []
    args: list[Any] = []
    nov = "NULL::DOUBLE"
    if "novelty" in cols:
        nov = f"novelty[{f.n}]" if f.n else "novelty[len(novelty)]"
    if f.results:
        if f.results not in ex.names:
            raise BadRequest(f"results={f.results!r}: choose one of {', '.join(ex.names)}")
        conds.append("results = ?")
        args.append(f.results)
    if f.model:
        conds.append("model = ?")
        args.append(f.model)
    if f.kind and "prefix_match" in cols:
        conds.append(f"prefix_match IS {'NOT ' if f.kind == 'corpus' else ''}NULL")
    if f.extracted and "extracted" in cols:
        conds.append("extracted" if f.extracted == "yes" else "NOT extracted")
    for value, op in ((f.min_match, ">="), (f.max_match, "<=")):
        if value is not None and "longest_match" in cols:
            conds.append(f"longest_match {op} ?")
            args.append(value)
    for share, op in ((f.min_novelty, ">="), (f.max_novelty, "<=")):
        if share is not None:
            conds.append(f"{nov} {op} ?")
            args.append(share)
    if f.cls:
        if "examples" not in ex.columns("patterns"):
            raise BadRequest("these results have no patterns; run classify with patterns")
        conds.append('gen_id::VARCHAR IN (SELECT unnest(examples) FROM patterns WHERE "class" = ?)')
        args.append(f.cls)
    if f.q:
        conds.append("(contains(lower(prompt), ?) OR contains(lower(output), ?))")
        args += [f.q.lower(), f.q.lower()]
    where = " WHERE " + " AND ".join(conds) if conds else ""
    return where, args, nov


def page_of_generations(ex: Explorer, f: Filters) -> dict[str, Any]:
    """One page of the table: rows, the total under the filters, and the page count."""
    cols = ex.columns("generations")
    if not cols:
        return {"rows": [], "total": 0, "pages": 0, "filters": f, "columns": []}
    where, args, nov = _where(ex, f, cols)
    key = (where, tuple(args), ex.stamp())  # paging through one filter counts once
    if key not in _COUNTS:
        if len(_COUNTS) > 256:
            _COUNTS.clear()
        _COUNTS[key] = ex.rows(f"SELECT count(*) FROM generations{where}", args)[0][0]
    total = int(_COUNTS[key])
    sort = nov if f.sort == "novelty" else f.sort
    if f.sort != "novelty" and sort not in cols:
        sort = "gen_id"
    optional = [c for c in ("model", "extracted", "prefix_match", "self_repetition") if c in cols]
    select = (
        "results, gen_id::VARCHAR AS gen_id, left(prompt, ?) AS prompt, left(output, ?) AS output,"
        f" n_tokens, longest_match, longest_nonprompt_match, {nov} AS novelty"
        + "".join(f", {c}" for c in optional)
    )
    rows = ex.dicts(
        f"SELECT {select} FROM generations{where} ORDER BY {sort} {f.order} NULLS LAST, "
        "results, gen_id LIMIT ? OFFSET ?",
        [PREVIEW, PREVIEW, *args, f.per_page, (f.page - 1) * f.per_page],
    )
    pages = max(1, -(-total // f.per_page))
    return {"rows": rows, "total": total, "pages": pages, "filters": f, "columns": optional}


def choices(ex: Explorer) -> dict[str, list[str]]:
    """Values offered by the filter form: the models (the distinct few; cached per manifest)."""
    key = ("choices", ex.stamp())
    if key not in _COUNTS:
        _COUNTS[key] = _choices(ex)
    return dict(_COUNTS[key])


def _choices(ex: Explorer) -> dict[str, list[str]]:
    cols = ex.columns("generations")
    models: list[tuple[Any, ...]] = []
    if "model" in cols:
        models = ex.rows(
            "SELECT DISTINCT model FROM generations WHERE model IS NOT NULL ORDER BY 1 LIMIT 50"
        )
    return {"models": [str(m) for (m,) in models]}
