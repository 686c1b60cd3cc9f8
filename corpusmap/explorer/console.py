"""The SQL console: one read-only statement, with a time limit and a row limit.

The read-only rules are those of ``corpusmap sql``, applied by the same code:
the statement is checked by :func:`corpusmap.query.sandbox.check_read_only`
(DuckDB's own parser; anything but a read is refused), then run on a cursor of
the explorer's :func:`corpusmap.query.sql.connect` connection (the same views
and engine-level lockdown). One statement per request: a
``;``-separated script is refused, since ``sql`` would run all but the last
statement while checking it, outside the time limit. The run happens in a
worker thread; past ``timeout`` seconds the cursor is interrupted and the
request answers 400. Rows are read in Arrow batches up to the limit (one more
tells that there were more).

What it leaves out: writing anything anywhere (downloads are made in memory).
"""

from __future__ import annotations

import io
import threading
import warnings
from typing import Any

import pyarrow as pa

from corpusmap.errors import CorpusmapError
from corpusmap.explorer.state import BadRequest, Explorer
from corpusmap.query.sandbox import check_read_only

TIMEOUT = 10.0  # seconds per statement
ROW_LIMIT = 1000  # rows shown on the page / in JSON
DOWNLOAD_LIMIT = 1_000_000  # rows in a CSV/Parquet download
MAX_SQL = 20_000


def _check(ex: Explorer, query: str) -> None:
    if not query.strip():
        raise BadRequest("empty SQL query")
    if len(query) > MAX_SQL:
        raise BadRequest(f"SQL too long ({len(query):,} characters, at most {MAX_SQL:,})")
    cur = ex.cursor()
    try:
        n = len(cur.extract_statements(query))
        if n != 1:
            raise BadRequest(f"one statement at a time here ({n} given)")
        check_read_only(cur, query)  # refuses writes exactly as `corpusmap sql` does
    except CorpusmapError as exc:
        raise BadRequest(str(exc)) from None
    except Exception as exc:  # duckdb.ParserException and friends
        raise BadRequest(f"SQL error: {exc}") from None
    finally:
        cur.close()


def run_sql(
    ex: Explorer, query: str, limit: int = ROW_LIMIT, timeout: float = TIMEOUT
) -> tuple[pa.Table, bool]:
    """Run one read-only statement; returns at most ``limit`` rows and whether there were more."""
    _check(ex, query)
    cur = ex.cursor()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            cur.execute(query)
            # DuckDB 1.x names it fetch_record_batch, 2.x to_arrow_reader (which warns of a copy)
            fetch = getattr(cur, "fetch_record_batch", None) or cur.to_arrow_reader
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                reader = fetch(min(limit + 1, 100_000))
            batches, n = [], 0
            for batch in reader:
                batches.append(batch)
                n += batch.num_rows
                if n > limit:
                    break
            table = (
                pa.Table.from_batches(batches, reader.schema)
                if batches
                else reader.schema.empty_table()
            )
            box["table"] = table
        except Exception as exc:  # reported below, in the request's thread
            box["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        cur.interrupt()
        worker.join(5)
        cur.close()
        raise BadRequest(f"query stopped after the {timeout:g} s time limit")
    cur.close()
    if "error" in box:
        raise BadRequest(f"SQL error: {box['error']}") from None
    table = box["table"]
    return table.slice(0, limit), table.num_rows > limit


def to_bytes(table: pa.Table, fmt: str) -> tuple[bytes, str]:
    """A table as CSV or Parquet file bytes, with its media type."""
    buf = io.BytesIO()
    if fmt == "csv":
        import pyarrow.csv as pcsv

        plain = pa.table(
            {
                name: col
                if not pa.types.is_nested(col.type)
                else pa.array(map(str, col.to_pylist()))
                for name, col in zip(table.column_names, table.columns, strict=True)
            }
        )
        pcsv.write_csv(plain, buf)
        return buf.getvalue(), "text/csv; charset=utf-8"
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, buf)
        return buf.getvalue(), "application/vnd.apache.parquet"
    raise BadRequest(f"format={fmt!r}: csv or parquet")


def jsonable(table: pa.Table) -> dict[str, Any]:
    """Columns and rows for JSON (values that JSON lacks become text or null)."""
    columns = [col.to_pylist() for col in table.columns]  # by position: names may repeat
    rows = [[plain(v) for v in row] for row in zip(*columns, strict=True)]
    return {"columns": table.column_names, "rows": rows}


def plain(v: Any) -> Any:
    """Any value as JSON-ready data: NaN and infinities to null, exotic types to text."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if v == v and abs(v) != float("inf") else None
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if hasattr(v, "__dataclass_fields__"):
        return plain(vars(v))
    return str(v)
