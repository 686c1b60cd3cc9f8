"""SQL over results: macros against Python references, read-only, side by side."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from corpusmap.cli import cli
from corpusmap.errors import CorpusmapError
from corpusmap.index.opening import open_index
from corpusmap.match import classify
from corpusmap.query.sql import sql
from tests.conftest import build_from_docs


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sql")
    rng = np.random.default_rng(4)
    words = [f"w{i}" for i in range(60)]
    docs = [" ".join(rng.choice(words, size=40)) for _ in range(25)]
    docs += [docs[0]] * 3  # a duplicated document
    ix = open_index(build_from_docs(tmp, docs, tokenizer="words"))
    folders = []
    for model, copy_share in (("m1", 0.8), ("m2", 0.2)):
        rows = []
        for g in range(40):
            d = int(rng.integers(0, len(docs)))
            toks = docs[d].split()
            cont = " ".join(toks[10:20])
            out = cont if rng.random() < copy_share else " ".join(rng.choice(words, size=10))
            rows.append(
                {
                    "gen_id": f"{model}-{g}",
                    "prompt": " ".join(toks[:10]),
                    "output": out,
                    "continuation": cont,
                    "doc_id": d,
                    "model": model,
                }
            )
        folders.append(
            classify(
                pa.Table.from_pylist(rows),
                ix,
                tmp / model,
                min_span=3,
                minhash=False,
                patterns=False,
            )
        )
    return folders


def test_macros_match_python(results) -> None:
    for folder in results:
        g = pq.read_table(folder / "generations").to_pylist()
        got = sql(folder, "SELECT * FROM copy_rate(6)").fetchall()
        assert got[0][2] == len(g)
        assert got[0][3] == pytest.approx(np.mean([r["longest_nonprompt_match"] >= 6 for r in g]))
        got = sql(folder, "SELECT memorization_rate FROM memorization_rate(10)").fetchall()[0][0]
        assert got == pytest.approx(np.mean([r["prefix_match"] >= 10 for r in g]))
        got = sql(folder, "SELECT novelty FROM novelty(2)").fetchall()[0][0]
        assert got == pytest.approx(np.nanmean([r["novelty"][1] for r in g]))
        rows = sql(
            folder, "SELECT min_count, n, extraction_rate FROM extraction_by_duplicates()"
        ).fetchall()
        assert sum(n for _, n, _ in rows) == len(g)
        assert sum(rate * n for _, n, rate in rows) == pytest.approx(sum(r["extracted"] for r in g))


def test_side_by_side_models(results) -> None:
    rows = sql(results, "SELECT results, model, copy_rate FROM copy_rate(6)").fetchall()
    assert [r[:2] for r in rows] == [("m1", "m1"), ("m2", "m2")]
    assert rows[0][2] > rows[1][2]  # m1 copies more
    per_schema = sql(results, 'SELECT count(*) FROM "m2".generations').fetchall()[0][0]
    assert per_schema == 40


def test_spans_join_docs(results) -> None:
    rel = sql(
        results[0], "SELECT s.length, d.doc_id FROM spans s JOIN docs d ON d.doc_id = s.doc_ids[1]"
    )
    assert len(rel.fetchall()) == sql(results[0], "SELECT count(*) FROM spans").fetchall()[0][0]
    assert "pl" in dir(rel)


@pytest.mark.parametrize(
    "query",
    [
        "COPY generations TO '/tmp/x.csv'",
        "CREATE TABLE t AS SELECT 1",
        "INSERT INTO t VALUES (1)",
        "SELECT 1; DROP VIEW spans",
        "SET threads = 1",
        "ATTACH 'x.db'",
    ],
)
def test_writes_are_refused(results, query) -> None:
    with pytest.raises(CorpusmapError, match="only read queries"):
        sql(results[0], query)


def test_cli_formats(results, tmp_path) -> None:
    run = CliRunner().invoke
    res = run(
        cli, ["sql", str(results[0]), "SELECT count(*) AS n FROM generations", "--format", "csv"]
    )
    assert res.exit_code == 0 and res.output.split() == ["n", "40"]
    res = run(
        cli,
        ["sql", *map(str, results), "SELECT results FROM generations LIMIT 1", "--format", "json"],
    )
    assert res.exit_code == 0 and '"results"' in res.output
    out = tmp_path / "x.parquet"
    res = run(
        cli,
        ["sql", str(results[0]), "SELECT * FROM spans", "--format", "parquet", "--out", str(out)],
    )
    assert res.exit_code == 0 and pq.read_table(out).num_rows > 0
    res = run(cli, ["sql", str(results[0]), "DELETE FROM spans"])
    assert res.exit_code == 1 and "only read queries" in res.output


def test_parts_with_different_columns_are_read_by_name(tmp_path) -> None:
    """Parts whose columns differ (e.g. written by another corpusmap version before a
    resume) still read as one view, matched by name; uniform parts take the plain scan."""
    ix = open_index(
        build_from_docs(tmp_path, ["a b c d e f g h", "a b c x y z"], tokenizer="words")
    )
    rows = [{"gen_id": str(k), "prompt": "a b", "output": "c d e f g"} for k in range(4)]
    out = tmp_path / "r"
    classify(pa.Table.from_pylist(rows), ix, out, min_span=2, minhash=False, patterns=False,
             shard_rows=2)  # fmt: skip
    uniform = sql([out], "SELECT gen_id FROM generations ORDER BY gen_id").fetchall()
    assert uniform == [("0",), ("1",), ("2",), ("3",)]
    second = out / "generations" / "part-00001.parquet"
    part = pq.read_table(second)
    pq.write_table(part.append_column("temperature", pa.array([0.5, 0.7])), second)
    got = sql([out], "SELECT gen_id, temperature FROM generations ORDER BY gen_id").fetchall()
    assert got == [("0", None), ("1", None), ("2", 0.5), ("3", 0.7)]
