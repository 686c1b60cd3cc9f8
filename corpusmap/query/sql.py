"""``sql``: DuckDB over one or more results folders, read-only, with views and macros.

Views (each with a ``results`` column naming the folder, so several folders —
e.g. two models — can be compared side by side; each folder's tables are also
in a schema of its own, ``"<folder name>".generations``):

* ``generations``, ``spans``, ``baseline``, ``patterns``, ``behaviors`` — the
  result tables present in the folders;
* ``docs`` — the corpus index's document table (doc_id, id, source, row, meta).

Table macros (``SELECT * FROM copy_rate(50)``), one row per results folder and model:

* ``copy_rate(L)`` — share of generations with a corpus match of >= L tokens that
  is not also in their prompt;
* ``memorization_rate(k)`` — share of corpus-prompted generations whose first k
  tokens reproduce the true continuation (k-extractable);
* ``novelty(n)`` / ``baseline_novelty(n)`` — mean fraction of n-grams absent
  from the corpus, for generations / the human baseline;
* ``extraction_by_duplicates()`` — extraction rate per corpus duplicate-count bucket.

The views read exactly the Parquet parts each folder's manifest lists
(``corpusmap.query.status``): foreign or half-written files in a results folder
are never read. Queries run in a sandbox (``corpusmap.query.sandbox``): DuckDB
may read those files and nothing else, installs no extensions, and only SELECT
statements (or EXPLAIN of one) are accepted.

What it leaves out: writing anything; ``corpusmap sql --format parquet --out``
writes the fetched result with polars, outside DuckDB.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from corpusmap.errors import CorpusmapError
from corpusmap.query.macros import BASELINE_MACRO, MACROS
from corpusmap.query.sandbox import check_read_only, lock, open_sandbox, sql_error
from corpusmap.query.status import (
    IncompleteResultsError,
    IncompleteResultsWarning,
    index_docs,
    read_manifest,
    result_parts,
    results_status,
)

TABLES = ("generations", "spans", "baseline", "patterns", "behaviors")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _files(paths: list[Path]) -> str:
    return "[" + ", ".join(_lit(p) for p in paths) + "]"


def _results_name(folder: Path, taken: set[str]) -> str:
    base = re.sub(r"\W+", "_", folder.resolve().name) or "results"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def _folders(results: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    folders = (
        [Path(results)] if isinstance(results, str | os.PathLike) else [Path(r) for r in results]
    )
    if not folders:
        raise CorpusmapError("name at least one results folder")
    return folders


def connect(
    results: str | os.PathLike | Sequence[str | os.PathLike], *, require_complete: bool = False
) -> Any:
    """A sandboxed DuckDB connection with the views and macros over the results folder(s).

    Run user SQL on it through :func:`check_read_only` (as :func:`sql` does); the
    engine limits hold whatever runs on it.

    Raises:
        IncompleteResultsError: ``require_complete`` and a folder is incomplete.
    """
    import duckdb

    folders = _folders(results)
    manifests = [read_manifest(f) for f in folders]
    if require_complete:
        for folder in folders:
            status = results_status(folder)
            if not status["complete"]:
                raise IncompleteResultsError(
                    str(status["message"]).replace("rerun classify", "rerun `corpusmap classify`")
                )
    parts = [
        {t: [p.resolve() for p in ps] for t, ps in result_parts(f, m).items()}
        for f, m in zip(folders, manifests, strict=True)
    ]
    docs = [[p.resolve() for p in index_docs(m)] for m in manifests]
    readable = [p for ps in parts for fs in ps.values() for p in fs]
    con = open_sandbox(readable + [p for fs in docs for p in fs])
    unions: dict[str, list[str]] = {t: [] for t in (*TABLES, "docs")}
    taken: set[str] = set()
    for folder, tables, doc_files in zip(folders, parts, docs, strict=True):
        name = _results_name(folder, taken)
        con.execute(f"CREATE SCHEMA {_quote(name)}")
        for table in TABLES:
            files = tables.get(table, [])
            if not files:
                continue
            try:
                schema = con.execute(
                    f"SELECT file_name, name, duckdb_type FROM parquet_schema({_files(files)})"
                ).fetchall()
            except duckdb.Error as exc:
                raise CorpusmapError(
                    f"{folder / table}: unreadable Parquet part ({sql_error(exc)}); "
                    "rerun `corpusmap classify --force`"
                ) from exc
            cols = {(col,) for _, col, _ in schema}
            model = (
                "" if table != "generations" or ("model",) in cols else ", NULL::VARCHAR AS model"
            )
            # union_by_name reads every part's schema on every query (~4x slower on 500
            # parts): only when the parts differ (e.g. a column that is all-null in one)
            per_file: dict[str, set[tuple[str, str]]] = {}
            for file, col, kind in schema:
                per_file.setdefault(file, set()).add((col, kind))
            mixed = len({frozenset(v) for v in per_file.values()}) > 1
            src = (
                f"SELECT {_lit(Path(name))} AS results, *{model} "
                f"FROM read_parquet({_files(files)}, union_by_name={str(mixed).lower()})"
            )
            con.execute(f"CREATE VIEW {_quote(name)}.{table} AS {src}")
            unions[table].append(f"SELECT * FROM {_quote(name)}.{table}")
        if doc_files:
            src = f"SELECT * FROM read_parquet({_files(doc_files)})"
            con.execute(f"CREATE VIEW {_quote(name)}.docs AS {src}")
            if not unions["docs"]:
                unions["docs"].append(f"SELECT * FROM {_quote(name)}.docs")
    for table, selects in unions.items():
        if selects:
            con.execute(f"CREATE VIEW {table} AS " + " UNION ALL BY NAME ".join(selects))
    # a macro is created only when the columns it reads exist (dumps from older runs
    # or other tools may lack some); its absence then says so at query time
    macros = MACROS if unions["generations"] else ""
    macros += BASELINE_MACRO if unions["baseline"] else ""
    for statement in filter(str.strip, macros.split(";")):
        try:
            con.execute(statement)
        except duckdb.BinderException:
            continue
    lock(con)
    return con


def sql(
    results: str | os.PathLike | Sequence[str | os.PathLike],
    query: str,
    *,
    require_complete: bool = False,
) -> Any:
    """Run a read-only query over results folder(s); returns a DuckDB relation.

    The relation prints as a table and converts with ``.pl()`` (polars),
    ``.df()`` (pandas), ``.arrow()`` or ``.fetchall()``; it cannot be written to
    files by DuckDB (the sandbox forbids it), so write what ``.pl()`` returns.

    Errors DuckDB finds only while the relation runs (a table function that is
    refused a file when it executes) are DuckDB's own ``duckdb.Error``; the
    ``corpusmap sql`` command turns them into one line too.

    An incomplete folder (an interrupted classify) gives an
    :class:`IncompleteResultsWarning`, or an error with ``require_complete``.
    """
    con = connect(results, require_complete=require_complete)
    check_read_only(con, query)  # a refused query gets no warning first
    for folder in _folders(results):
        message = results_status(folder)["message"]
        if message:
            warnings.warn(message, IncompleteResultsWarning, stacklevel=2)
    return run_read_only(con, query)


def run_read_only(con: Any, query: str) -> Any:
    """Run user SQL on a :func:`connect` connection: checked, then run; a relation.

    The one door for user SQL (``sql`` and the explorer's endpoint): statements
    other than SELECT are refused, DuckDB errors become one-line CorpusmapErrors.
    """
    check_read_only(con, query)
    try:
        return con.sql(query)
    except Exception as exc:  # duckdb errors carry a useful message
        raise sql_error(exc) from exc
