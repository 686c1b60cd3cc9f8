"""What the explorer holds open: the results folders, their DuckDB views and indexes.

One :class:`Explorer` serves every request. DuckDB work runs on a fresh cursor
of one connection made by :func:`corpusmap.query.sql.connect` (the same views,
macros and read-only lockdown as ``corpusmap sql``); cursors may run in parallel
threads. The connection is remade when a folder's ``manifest.json`` changes, so
parts that a running ``classify`` publishes appear on the next request; parts
are only ever read once renamed into place (temp names start with ``.``).

Indexes open lazily and stay open: each results folder's corpus index (from its
manifest, or the one ``--index`` names) and its generations index
(``RESULTS/generations_index``, written by the pattern stage).

What it leaves out: HTTP (``app.py``) and the queries themselves (``queries.py``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from corpusmap.errors import CorpusmapError
from corpusmap.query.sql import _results_name, connect


def quote(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


class NotFound(CorpusmapError):
    """A generation, document or page that does not exist (HTTP 404)."""


class BadRequest(CorpusmapError):
    """A malformed query or parameter (HTTP 400)."""


class Explorer:
    """Open results folders for the explorer (see module docstring)."""

    def __init__(
        self,
        results: str | os.PathLike | Sequence[str | os.PathLike],
        index: str | os.PathLike | None = None,
    ) -> None:
        folders = (
            [Path(results)]
            if isinstance(results, str | os.PathLike)
            else [Path(r) for r in results]
        )
        if not folders:
            raise CorpusmapError("name at least one results folder")
        self.folders = folders
        taken: set[str] = set()
        self.names = [_results_name(f, taken) for f in folders]  # as connect() names them
        self.index_override = Path(index) if index is not None else None
        self._lock = threading.Lock()
        self._con: Any = None
        self._stamp: tuple[float, ...] = ()
        self._indexes: dict[tuple[str, str], Any] = {}
        self._columns: dict[str, set[str]] = {}
        self.cursor()  # fail now, with the sql module's message, on a bad folder

    # ---- DuckDB ------------------------------------------------------------------
    def _manifest_stamp(self) -> tuple[float, ...]:
        return tuple(
            (f / "manifest.json").stat().st_mtime if (f / "manifest.json").exists() else 0.0
            for f in self.folders
        )

    def stamp(self) -> tuple[Any, ...]:
        """Which folders and manifest versions the current answers are about (a cache key)."""
        return (tuple(map(str, self.folders)), self._manifest_stamp())

    def cursor(self) -> Any:
        """A new cursor over the current views (remade when a manifest changed)."""
        stamp = self._manifest_stamp()
        with self._lock:
            if self._con is None or stamp != self._stamp:
                self._con = connect(self.folders)
                self._stamp = stamp
                self._columns = {}
            return self._con.cursor()

    def rows(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run an internal (trusted, parameterised) query and fetch all its rows."""
        cur = self.cursor()
        try:
            return cur.execute(query, list(params or [])).fetchall()
        finally:
            cur.close()

    def dicts(self, query: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Like :meth:`rows`, each row as a dict of column name to value."""
        cur = self.cursor()
        try:
            cur.execute(query, list(params or []))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            cur.close()

    def columns(self, view: str) -> set[str]:
        """Column names of a union view (empty when the folders have no such table)."""
        if view not in self._columns:
            known = {
                t
                for (t,) in self.rows(
                    "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main'"
                )
            }
            cols: set[str] = set()
            if view in known:
                cur = self.cursor()
                try:
                    cols = {d[0] for d in cur.execute(f"SELECT * FROM {view} LIMIT 0").description}
                finally:
                    cur.close()
            self._columns[view] = cols
        return self._columns[view]

    def id_expr(self, view: str) -> str:
        """``gen_id`` as text: the bare column when it is text (so row groups are pruned)."""
        key = f"{view}:gen_id-type"
        if key not in self._columns:
            found = (
                self.rows(f"SELECT typeof(gen_id) FROM {view} LIMIT 1")
                if self.columns(view)
                else []
            )
            self._columns[key] = {str(found[0][0]) if found else "VARCHAR"}
        return "gen_id" if self._columns[key] == {"VARCHAR"} else "gen_id::VARCHAR"

    # ---- folders and indexes -------------------------------------------------------
    def folder(self, name: str) -> Path:
        """The folder of a results name (404 for an unknown one)."""
        if name not in self.names:
            raise NotFound(f"no results folder named {name!r}; known: {', '.join(self.names)}")
        return self.folders[self.names.index(name)]

    def manifest(self, name: str) -> dict[str, Any]:
        """One folder's manifest (empty if unreadable mid-write)."""
        try:
            return json.loads((self.folder(name) / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def complete(self, name: str) -> bool:
        """Whether classify finished this folder (its manifest has ``completed_at``)."""
        return "completed_at" in self.manifest(name)

    def index(self, name: str, side: str = "corpus") -> Any:
        """The corpus index (``side="corpus"``) or generations index of a folder, or None."""
        key = (name, side)
        if key not in self._indexes:
            from corpusmap.index.opening import open_index

            if side == "corpus":
                path = self.index_override or Path(
                    self.manifest(name).get("plan", {}).get("index", "")
                )
            else:
                path = self.folder(name) / "generations_index"
            try:
                ix = open_index(path) if (path / "manifest.json").is_file() else None
            except CorpusmapError:
                ix = None
            if ix is None:  # not (yet) there: look again next time, classify may write it
                return None
            with self._lock:
                self._indexes[key] = ix
        return self._indexes[key]

    def min_span(self, name: str) -> int:
        """The shortest span this folder records (for colour buckets)."""
        return int(self.manifest(name).get("plan", {}).get("params", {}).get("min_span") or 1)
