"""The SQL sandbox holds: hostile statements are refused and no file changes on disk.

Each hostile statement runs through the API (``corpusmap.sql`` then a fetch) and
the real CLI entry point; each must fail with a one-line CorpusmapError, and the
SHA-256 of every file under the test's folder (results, index, an outside folder,
the working directory) must be the same before and after, with no file added.
Each also goes through ``run_read_only`` on one long-lived connection (the
explorer's door). The corpus covers every DuckDB statement type, statements
nested in EXPLAIN / EXPLAIN ANALYZE / PREPARE / EXECUTE, after ``;``, behind
comments and string literals, and table functions that read outside the results
or write.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from corpusmap.cli import cli
from corpusmap.errors import CorpusmapError
from corpusmap.index.opening import open_index
from corpusmap.match import classify
from corpusmap.query.sql import connect, run_read_only, sql
from tests.conftest import build_from_docs

STAMP = uuid.uuid4().hex[:12]
TMP_TARGET = f"/tmp/corpusmap-hostile-{STAMP}"  # must never appear

HOSTILE = [
    # writes, plain and nested
    "COPY generations TO '{O}/x.csv'",
    "COPY (SELECT 1 AS a) TO '{P}' (FORMAT parquet)",
    "COPY (SELECT 1 AS a) TO '{P}' (FORMAT parquet, USE_TMP_FILE false)",
    "COPY (SELECT 1 AS a) TO 'relative.csv'",
    "COPY (SELECT 1 AS a) TO '" + TMP_TARGET + ".csv'",
    "EXPLAIN ANALYZE COPY (SELECT 1 AS a) TO '{P}' (FORMAT parquet, USE_TMP_FILE false)",
    "explain /* x */ analyze COPY (SELECT 1 AS a) TO '{P}' (FORMAT parquet)",
    "EXPLAIN COPY (SELECT 1 AS a) TO '{P}' (FORMAT parquet)",
    "EXPLAIN (ANALYZE) COPY (SELECT 1 AS a) TO '{P}' (FORMAT parquet)",
    "EXPLAIN ANALYZE SELECT 1",
    "EXPLAIN EXPLAIN SELECT 1",
    "EXPLAIN SELECT 1; COPY spans TO '{O}/e.csv'",
    "PREPARE p AS COPY (SELECT 1) TO '{O}/p.csv'",
    "PREPARE p AS SELECT 1; EXECUTE p",
    "EXECUTE p",
    "DEALLOCATE p",
    "IMPORT DATABASE '{O}/db'",
    "EXPORT DATABASE '{O}/exported'",
    "COPY FROM DATABASE memory TO other",
    "COPY FROM DATABASE memory TO other (SCHEMA)",
    "PIVOT generations ON model",
    "EXPLAIN PIVOT generations ON model",
    "CREATE FUNCTION f(x) AS x + 1",
    "LOAD '{O}/evil.duckdb_extension'",
    "UPDATE EXTENSIONS (httpfs)",
    "COPY spans FROM '/etc/passwd'",
    # after ';', behind comments and literals
    "SELECT 1; COPY generations TO '{O}/y.parquet'",
    "SELECT 'a;b' AS x; DROP VIEW spans",
    "SELECT $$;$$ AS x; CREATE TABLE t (a INT)",
    "/* SELECT */ COPY generations TO '{O}/c.csv'",
    "-- SELECT 1\nDROP VIEW spans",
    "SELECT 1 /* ; */ ; DELETE FROM spans",
    # extensions, settings, pragmas
    "INSTALL httpfs",
    "LOAD httpfs",
    "FORCE INSTALL fts",
    "UPDATE EXTENSIONS",
    "PRAGMA create_fts_index('generations', 'gen_id', 'output')",
    "PRAGMA version",
    "PRAGMA enable_profiling = 'json'",
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
    "SET profile_output = '{O}/profile.json'",
    "SET lock_configuration = false",
    "RESET lock_configuration",
    "SET VARIABLE v = 1",
    "SELECT 1; SET threads = 1",
    "USE memory",
    # catalog and data changes
    "ATTACH '{O}/new.db' AS x; CREATE TABLE x.t AS SELECT 1",
    "ATTACH '{P}' AS p",
    "ATTACH ':memory:' AS m",
    "DETACH memory",
    "CREATE TABLE t AS SELECT * FROM generations",
    "CREATE TEMP TABLE t AS SELECT 1",
    "CREATE OR REPLACE VIEW generations AS SELECT 1",
    "CREATE MACRO copy_rate(L) AS TABLE SELECT 1",
    "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')",
    "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')",
    "CREATE TYPE mood AS ENUM ('a')",
    "DROP VIEW spans",
    "ALTER VIEW spans RENAME TO s2",
    "COMMENT ON VIEW spans IS 'x'",
    "INSERT INTO spans SELECT * FROM spans",
    "UPDATE generations SET output = ''",
    "DELETE FROM spans",
    "TRUNCATE spans",
    "MERGE INTO generations USING spans ON true WHEN MATCHED THEN DELETE",
    "CALL pragma_version()",
    "CHECKPOINT",
    "VACUUM",
    "ANALYZE",
    "BEGIN TRANSACTION",
    # reads outside the results, local and remote
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_blob('{O}/secret.txt')",
    "SELECT * FROM read_csv('{O}/secret.txt')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM glob('{R}/*')",
    "SELECT * FROM read_parquet('{O}/other.parquet')",
    "SELECT * FROM '{O}/other.parquet'",
    "SELECT * FROM parquet_metadata('{O}/other.parquet')",
    "SELECT * FROM read_parquet('{R}/generations/foreign.parquet')",
    "SELECT * FROM read_json('{R}/manifest.json')",
    "SELECT * FROM read_text('{I}/manifest.json')",
    "SELECT * FROM read_csv('https://example.com/x.csv')",
    "SELECT * FROM read_parquet('s3://bucket/x.parquet')",
    "SELECT * FROM query('COPY (SELECT 1) TO ''{O}/q.csv''')",
    "SELECT getenv('HOME')",
    "WITH x AS (COPY spans TO '{O}/w.csv') SELECT 1",
    # nothing to run
    "",
    "  ;  ",
    "SELECT 1 /* unterminated",
]

LEGIT = [  # (query, expected first row or None to just run)
    ("SELECT count(*) FROM generations", (40,)),
    ("SELECT * FROM copy_rate(50)", None),
    ("SELECT * FROM memorization_rate(5)", None),
    ("SELECT * FROM novelty(2)", None),
    ("SELECT * FROM baseline_novelty(2)", None),
    ("SELECT * FROM extraction_by_duplicates()", None),
    (
        "SELECT s.length, s.text, d.id, d.source FROM spans s JOIN docs d "
        "ON d.doc_id = s.doc_ids[1] WHERE NOT s.in_prompt ORDER BY s.length DESC LIMIT 20",
        None,
    ),
    (
        "SELECT 'model', novelty FROM novelty(4) UNION ALL "
        "SELECT 'human', novelty FROM baseline_novelty(4)",
        None,
    ),
    ("DESCRIBE generations", None),
    ("SHOW TABLES", None),
    ("SUMMARIZE spans", None),
    ("EXPLAIN SELECT count(*) FROM spans", None),
    ("EXPLAIN /* plan */ (SELECT 1)", None),
    (
        "-- a comment\nSELECT 'COPY x TO ''y''; DROP VIEW spans' AS s",
        ("COPY x TO 'y'; DROP VIEW spans",),
    ),
    ("SELECT 1; SELECT 2 AS two", (2,)),
    ("FROM generations SELECT count(*)", (40,)),
    ("WITH g AS (SELECT * FROM generations) SELECT count(*) FROM g", (40,)),
    (
        "SELECT * FROM (PIVOT (SELECT model FROM generations) ON model IN ('m') USING count(*))",
        (40,),
    ),
]


def _make_results(root: Path) -> Path:
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in range(50)]
    docs = [" ".join(rng.choice(words, size=40)) for _ in range(20)]
    ix = open_index(build_from_docs(root, docs, tokenizer="words"))
    rows = []
    for g in range(40):
        d = int(rng.integers(0, len(docs)))
        toks = docs[d].split()
        rows.append(
            {
                "gen_id": f"g{g}",
                "prompt": " ".join(toks[:10]),
                "output": " ".join(toks[10:20]) if g % 2 else " ".join(rng.choice(words, 10)),
                "continuation": " ".join(toks[10:20]),
                "doc_id": d,
                "model": "m",
            }
        )
    return classify(pa.Table.from_pylist(rows), ix, root / "results", min_span=3, minhash=False)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("sandbox")
    results = _make_results(root)
    outside = root / "outside"
    (outside / "db").mkdir(parents=True)
    part = results / "generations" / "part-00000.parquet"
    # IMPORT DATABASE runs schema.sql and load.sql: here they would overwrite a part
    attack = f"COPY (SELECT 1 AS a) TO '{part}' (FORMAT parquet, USE_TMP_FILE false);\n"
    (outside / "db" / "schema.sql").write_text(attack)
    (outside / "db" / "load.sql").write_text(attack)
    (outside / "secret.txt").write_text("secret\n")
    pq.write_table(pa.table({"a": [1]}), outside / "other.parquet")
    pq.write_table(pa.table({"a": [1]}), results / "generations" / "foreign.parquet")
    index = Path(open_index(root / "idx").path)
    con = connect(results)
    return {"root": root, "R": results, "I": index, "O": outside, "P": part, "con": con}


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _fill(template: str, sandbox: dict) -> str:
    for key in ("R", "I", "O", "P"):
        template = template.replace("{" + key + "}", str(sandbox[key]))
    return template


# statement types DuckDB's parser never reports for SQL text: internal ones, and ones
# it files under another type (ANALYZE is VACUUM, CREATE FUNCTION is CREATE, SET
# VARIABLE is SET, UPDATE EXTENSIONS is a number the Python enum lacks)
UNPARSED = {
    "INVALID",
    "RELATION",
    "LOGICAL_PLAN",
    "ANALYZE",
    "CREATE_FUNC",
    "VARIABLE_SET",
    "EXTENSION",
}


def test_corpus_covers_every_statement_type() -> None:
    assert len(HOSTILE) >= 50 and len(set(HOSTILE)) == len(HOSTILE)
    con = duckdb.connect()
    seen = set()
    for query in HOSTILE:
        try:
            statements = con.extract_statements(query)
        except duckdb.Error:
            continue
        for st in statements:
            try:
                seen.add(st.type.name)
            except ValueError:  # a type newer than the Python enum
                seen.add("UNKNOWN")
    assert {t.name for t in duckdb.StatementType} - UNPARSED <= seen
    assert "UNKNOWN" in seen


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_is_refused_and_nothing_changes(sandbox, template, monkeypatch) -> None:
    monkeypatch.chdir(sandbox["root"])
    query = _fill(template, sandbox)
    before = _snapshot(sandbox["root"])
    # the API refuses in sql(), or, for a table function that touches a file only when
    # it runs (sniff_csv), the lazy relation fails with DuckDB's permission error
    with pytest.raises((CorpusmapError, duckdb.PermissionException)) as info:
        sql(sandbox["R"], query).fetchall()
    if isinstance(info.value, CorpusmapError):
        message = str(info.value)
        assert message and "\n" not in message
    # the explorer's door: one long-lived connection, user SQL through run_read_only
    with pytest.raises((CorpusmapError, duckdb.PermissionException)):
        run_read_only(sandbox["con"], query).fetchall()
    res = CliRunner().invoke(
        cli, ["sql", "--", str(sandbox["R"]), query]
    )  # "--": "-- x" is no option
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert _snapshot(sandbox["root"]) == before
    assert not any(Path("/tmp").glob(f"corpusmap-hostile-{STAMP}*"))


@pytest.mark.parametrize(("query", "first"), LEGIT)
def test_reads_still_work(sandbox, query, first) -> None:
    before = _snapshot(sandbox["root"])
    rows = sql(sandbox["R"], query).fetchall()
    assert rows
    if first is not None:
        assert rows[0] == first
    assert _snapshot(sandbox["root"]) == before


def test_engine_wall_holds_without_the_statement_check(sandbox) -> None:
    """Reads outside, extension loads and settings fail inside DuckDB itself."""
    con = connect(sandbox["R"])
    refused = "Permission Error"
    locked = "configuration has been locked"
    for query, error in (
        ("SELECT * FROM read_csv('/etc/passwd')", refused),
        (f"SELECT * FROM read_parquet('{sandbox['O']}/other.parquet')", refused),
        (f"SELECT * FROM read_parquet('{sandbox['R']}/generations/foreign.parquet')", refused),
        ("SELECT * FROM read_csv('https://example.com/x.csv')", refused),
        (f"COPY (SELECT 1) TO '{sandbox['O']}/z.csv'", refused),
        (f"ATTACH '{sandbox['O']}/z.db'", refused),
        ("INSTALL httpfs", refused),
        ("LOAD httpfs", refused),
        ("PRAGMA create_fts_index('generations', 'gen_id', 'output')", "not in the catalog"),
        ("SET enable_external_access = true", locked),
        ("SET autoload_known_extensions = true", locked),
        ("SET allowed_directories = ['/']", locked),
    ):
        with pytest.raises(duckdb.Error, match=error):
            con.execute(query).fetchall()
    settings = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', "
            "'autoinstall_known_extensions', 'autoload_known_extensions', 'lock_configuration', "
            "'allow_community_extensions')"
        ).fetchall()
    )
    assert settings == {
        "enable_external_access": "false",
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "allow_community_extensions": "false",
        "lock_configuration": "true",
    }
