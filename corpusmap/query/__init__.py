"""Querying results: DuckDB views and macros (``sql``), and the report."""

from corpusmap.query.sql import connect, sql

__all__ = ["connect", "sql"]
