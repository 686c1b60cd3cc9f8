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

Only reading statements run: anything else (INSERT, COPY, CREATE, SET, ATTACH...)
is refused before it reaches DuckDB, and the configuration is locked.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from corpusmap.errors import CorpusmapError
from corpusmap.query.macros import BASELINE_MACRO, MACROS

TABLES = ("generations", "spans", "baseline", "patterns", "behaviors")
_ALLOWED = {"SELECT", "EXPLAIN", "PRAGMA"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _results_name(folder: Path, taken: set[str]) -> str:
    base = re.sub(r"\W+", "_", folder.resolve().name) or "results"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def connect(results: str | os.PathLike | Sequence[str | os.PathLike]) -> Any:
    """A DuckDB connection with the views and macros over the results folder(s)."""
    import duckdb

    folders = (
        [Path(results)] if isinstance(results, str | os.PathLike) else [Path(r) for r in results]
    )
    if not folders:
        raise CorpusmapError("name at least one results folder")
    con = duckdb.connect(":memory:")
    parts: dict[str, list[str]] = {t: [] for t in (*TABLES, "docs")}
    taken: set[str] = set()
    for folder in folders:
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise CorpusmapError(
                f"{folder}: not a results folder (no manifest.json); run `corpusmap classify`"
            )
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        name = _results_name(folder, taken)
        con.execute(f"CREATE SCHEMA {_quote(name)}")
        for table in TABLES:
            if not any((folder / table).glob("*.parquet")):
                continue
            cols = con.execute(
                f"SELECT name FROM parquet_schema({_lit(folder / table / '*.parquet')})"
            ).fetchall()
            model = (
                "" if table != "generations" or ("model",) in cols else ", NULL::VARCHAR AS model"
            )
            files = _lit(folder / table / "*.parquet")
            src = (
                f"SELECT {_lit(Path(name))} AS results, *{model} "
                f"FROM read_parquet({files}, union_by_name=true)"
            )
            con.execute(f"CREATE VIEW {_quote(name)}.{table} AS {src}")
            parts[table].append(f"SELECT * FROM {_quote(name)}.{table}")
        index = Path(manifest.get("plan", {}).get("index", ""))
        if index.is_dir() and any(index.glob("shard-*/docs.parquet")):
            src = f"SELECT * FROM read_parquet({_lit(index / 'shard-*' / 'docs.parquet')})"
            con.execute(f"CREATE VIEW {_quote(name)}.docs AS {src}")
            if not parts["docs"]:
                parts["docs"].append(f"SELECT * FROM {_quote(name)}.docs")
    for table, selects in parts.items():
        if selects:
            con.execute(f"CREATE VIEW {table} AS " + " UNION ALL BY NAME ".join(selects))
    # a macro is created only when the columns it reads exist (dumps from older runs
    # or other tools may lack some); its absence then says so at query time
    macros = MACROS if parts["generations"] else ""
    macros += BASELINE_MACRO if parts["baseline"] else ""
    for statement in filter(str.strip, macros.split(";")):
        try:
            con.execute(statement)
        except duckdb.BinderException:
            continue
    con.execute("SET lock_configuration = true")
    return con


def check_read_only(con: Any, query: str) -> None:
    """Refuse any statement that is not a read (before it runs)."""
    try:
        statements = con.extract_statements(query)
    except Exception as exc:  # duckdb.ParserException and friends
        raise CorpusmapError(f"SQL error: {exc}") from exc
    if not statements:
        raise CorpusmapError("empty SQL query")
    for st in statements:
        kind = str(st.type).rsplit(".", 1)[-1]
        if kind not in _ALLOWED:
            raise CorpusmapError(
                f"only read queries are allowed here ({kind} refused); "
                "results folders are read-only"
            )


def sql(results: str | os.PathLike | Sequence[str | os.PathLike], query: str) -> Any:
    """Run a read-only query over results folder(s); returns a DuckDB relation.

    The relation prints as a table and converts with ``.pl()`` (polars),
    ``.df()`` (pandas), ``.arrow()`` or ``.fetchall()``.
    """
    con = connect(results)
    check_read_only(con, query)
    try:
        return con.sql(query)
    except Exception as exc:  # duckdb errors carry a useful message
        raise CorpusmapError(f"SQL error: {exc}") from exc
