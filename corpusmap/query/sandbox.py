"""The SQL sandbox: a DuckDB connection that can read the results' files and nothing else.

Two independent walls, so that a hole in one is not a hole:

1. **The engine** (``open_sandbox``): extensions are never installed or loaded
   (``autoinstall_known_extensions``, ``autoload_known_extensions``,
   ``allow_community_extensions`` off), no persistent secrets, no scans of Python
   variables, and ``enable_external_access = false`` with ``allowed_paths`` set to
   the exact Parquet files the views read, so ``read_csv('/etc/passwd')``,
   ``glob``, URLs and ``ATTACH`` of other files fail inside DuckDB. ``lock`` then
   sets ``lock_configuration`` once the views and macros exist: no ``SET`` can
   undo any of it.
2. **The statement** (``check_read_only``): DuckDB's own parser splits the query
   (comments and string literals are its business, not a regex's) and every
   statement must be a SELECT, or a plain ``EXPLAIN`` of one SELECT. This wall is
   needed because ``allowed_paths`` grants writes too: ``COPY ... TO`` a listed
   part, or ``EXPLAIN ANALYZE COPY`` (which runs what it wraps), would overwrite it.

``check_out_path`` refuses to write a query's result into a folder corpusmap owns
(results, index, generation store), whatever symlinks lead there.

What it leaves out: limits on time and memory (a query may be slow); those are
the caller's (the explorer sets its own timeout).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from corpusmap.errors import CorpusmapError

ENGINE_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "allow_persistent_secrets": False,
    "python_enable_replacements": False,
}
VIEWS = "generations, spans, baseline, patterns, behaviors, docs"


class SqlRefused(CorpusmapError):
    """A query tried something other than reading the results."""


def open_sandbox(files: Iterable[Path]) -> Any:
    """An in-memory DuckDB connection that may read exactly ``files`` (absolute paths)."""
    import duckdb

    con = duckdb.connect(":memory:", config=dict(ENGINE_CONFIG))
    # Parquet footers read once per connection, not per query: a long-lived connection
    # (the explorer's) over hundreds of parts answers in milliseconds, not ~200 ms
    con.execute("SET parquet_metadata_cache = true")
    con.execute("SET allowed_paths = ?", [sorted({str(f) for f in files})])
    con.execute("SET enable_external_access = false")
    return con


def lock(con: Any) -> None:
    """Lock the configuration: from here on no statement can change a setting."""
    con.execute("SET lock_configuration = true")


def one_line(exc: BaseException) -> str:
    """DuckDB's message, first line only (its caret diagram would break the one-line rule)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def sql_error(exc: BaseException) -> CorpusmapError:
    """A DuckDB error as a one-line CorpusmapError (a refusal if DuckDB refused a file)."""
    msg = one_line(exc)
    if type(exc).__name__ == "PermissionException":
        return SqlRefused(f"refused: {msg}; queries over results read only their views ({VIEWS})")
    return CorpusmapError(f"SQL error: {msg}")


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."


def _explained(con: Any, text: str) -> str | None:
    """Why an EXPLAIN statement is refused, or None if it explains one plain SELECT."""
    import duckdb

    tokens = [(pos, kind) for pos, kind in duckdb.tokenize(text) if kind.name != "comment"]
    if len(tokens) < 2 or text[tokens[0][0] :].split(None, 1)[0].upper() != "EXPLAIN":
        return "EXPLAIN in an unexpected form"
    inner = text[tokens[1][0] :]
    word = inner.split(None, 1)[0].upper() if inner.split() else ""
    if word.startswith(("ANALYZE", "ANALYSE")):
        return "EXPLAIN ANALYZE (it runs the statement it explains)"
    try:
        statements = con.extract_statements(inner)
        one_select = len(statements) == 1 and statements[0].type.name == "SELECT"
    except Exception:  # parse errors and unknown statement types alike
        one_select = False
    return None if one_select else "EXPLAIN of a statement that is not one SELECT"


def check_read_only(con: Any, query: str) -> None:
    """Refuse the query unless every statement in it is a SELECT (or EXPLAIN of one).

    Raises:
        SqlRefused: a statement of another kind, naming it and its position.
        CorpusmapError: the query does not parse, or is empty.
    """
    try:
        statements = con.extract_statements(query)
    except Exception as exc:  # ParserException, and ValueError for new types
        raise CorpusmapError(f"SQL error: {one_line(exc)}") from exc
    if not statements:
        raise CorpusmapError("empty SQL query; give one SELECT statement")
    for k, st in enumerate(statements, 1):
        try:
            kind = st.type.name
        except ValueError:  # a statement type newer than the Python enum (UPDATE EXTENSIONS)
            kind = "UNKNOWN"
        if kind == "SELECT":
            continue
        why = _explained(con, st.query) if kind == "EXPLAIN" else f"{kind} statement"
        if why is None:
            continue
        where = f"statement {k} of {len(statements)}" if len(statements) > 1 else "statement"
        raise SqlRefused(
            f"refused {why} ({where}: {_snippet(st.query)!r}); only read queries are "
            "allowed here: SELECT or EXPLAIN SELECT, results folders are read-only"
        )


def _owner(folder: Path) -> str | None:
    """The corpusmap format of a folder (``corpusmap-results``...), or None."""
    try:
        fmt = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        return None
    return fmt if isinstance(fmt, str) and fmt.startswith("corpusmap-") else None


def check_out_path(out: str | os.PathLike, protected: Iterable[Path] = ()) -> Path:
    """Refuse an output file inside a folder corpusmap owns, or inside ``protected``.

    The path is resolved first (symlinks, ``..``), then every folder above it is
    checked for a corpusmap manifest (results, index, generation store, MinHash).

    Returns:
        The resolved path.
    """
    path = Path(out).resolve()
    guarded = [Path(p).resolve() for p in protected]
    for folder in path.parents:
        fmt = _owner(folder)
        if fmt or folder in guarded:
            what = fmt or "a results or index folder"
            raise SqlRefused(
                f"--out {out}: inside {folder} ({what}), which corpusmap owns; "
                "write the query's output somewhere else"
            )
    return path
