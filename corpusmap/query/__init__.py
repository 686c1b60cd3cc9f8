"""Querying results: DuckDB views and macros (``sql``), and the report."""

from corpusmap.query.sql import connect, sql
from corpusmap.query.status import results_status

__all__ = ["connect", "results_status", "sql"]
