"""Results folders as their manifest says: listed parts only, incomplete runs marked.

A real ``classify`` of 40 generations in 4 shards of 10 is interrupted after two
shards (the third shard's scoring raises, as a kill would stop it): the folder
then holds 20 classified generations, and ``sql`` must say so, ``--require-complete``
must fail, and the report must carry a banner; the rerun finishes it.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import corpusmap.match.run as match_run
from corpusmap.cli import cli
from corpusmap.errors import CorpusmapError
from corpusmap.index.opening import open_index
from corpusmap.match import classify
from corpusmap.query import results_status
from corpusmap.query.report import report
from corpusmap.query.sql import IncompleteResultsWarning, sql
from corpusmap.query.status import IncompleteResultsError
from tests.conftest import build_from_docs

N, SHARD = 40, 10


def _generations(docs: list[str], rng: np.random.Generator) -> pa.Table:
    rows = []
    for g in range(N):
        toks = docs[g % len(docs)].split()
        rows.append(
            {
                "gen_id": f"g{g}",
                "prompt": " ".join(toks[:8]),
                "output": " ".join(toks[8:18]),
                "continuation": " ".join(toks[8:18]),
            }
        )
    return pa.Table.from_pylist(rows)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("status")
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(40)]
    docs = [" ".join(rng.choice(words, size=30)) for _ in range(12)]
    ix = open_index(build_from_docs(root, docs, tokenizer="words"))
    table = _generations(docs, rng)
    kw = {"min_span": 3, "minhash": False, "patterns": False, "shard_rows": SHARD}
    complete = classify(table, ix, root / "complete", **kw)
    return {"root": root, "ix": ix, "table": table, "kw": kw, "complete": complete}


def _interrupted(world, out: Path, monkeypatch) -> Path:
    """Classify, stopped while scoring the third shard (parts of two shards written)."""
    real, calls = match_run.score_shard, []

    def stopping(*args, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(match_run, "score_shard", stopping)
    with pytest.raises(KeyboardInterrupt):
        classify(world["table"], world["ix"], out, **world["kw"])
    monkeypatch.setattr(match_run, "score_shard", real)
    return out


def test_foreign_parts_are_not_read(world, tmp_path) -> None:
    folder = tmp_path / "r"
    shutil.copytree(world["complete"], folder)
    listed = json.loads((folder / "manifest.json").read_text())["finished"]
    reference = pa.concat_tables(pq.read_table(folder / "generations" / p) for p in listed)
    # a well-formed stranger, a junk part, and a temp file left by a killed writer
    shutil.copy(folder / "generations" / "part-00000.parquet", folder / "generations" / "x.parquet")
    (folder / "generations" / "part-99999.parquet").write_bytes(b"not parquet")
    (folder / "spans" / ".part-00007.parquet.tmp").write_bytes(b"PAR1 half")
    (folder / "patterns").mkdir()  # patterns never ran: a file here is foreign too
    shutil.copy(
        folder / "generations" / "part-00000.parquet", folder / "patterns" / "part-00000.parquet"
    )
    got = sql(folder, "SELECT gen_id FROM generations ORDER BY gen_id").fetchall()
    assert sorted(got) == sorted((g,) for g in reference.column("gen_id").to_pylist())
    assert len(got) == N
    tables = {t for (t,) in sql(folder, "SELECT view_name FROM duckdb_views()").fetchall()}
    assert "patterns" not in tables and "generations" in tables
    res = CliRunner().invoke(cli, ["sql", str(folder), "SELECT count(*) AS n FROM generations"])
    assert res.exit_code == 0 and str(N) in res.output


def test_complete_results_have_no_warning(world) -> None:
    status = results_status(world["complete"])
    assert status["complete"] and status["message"] is None
    assert (status["classified"], status["generations"], status["shards"]) == (N, N, N // SHARD)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sql(world["complete"], "SELECT count(*) FROM generations").fetchall() == [(N,)]


def test_interrupted_classify_is_marked(world, tmp_path, monkeypatch) -> None:
    folder = _interrupted(world, tmp_path / "cut", monkeypatch)
    status = results_status(folder)
    assert status["complete"] is False
    assert (status["classified"], status["finished_shards"]) == (2 * SHARD, 2)
    expected = (
        f"results {folder} are incomplete: 20 of 40 generations classified; "
        "rerun classify to finish"
    )
    assert status["message"] == expected
    with pytest.warns(IncompleteResultsWarning, match="20 of 40 generations classified"):
        rows = sql(folder, "SELECT count(*) FROM generations").fetchall()
    assert rows == [(2 * SHARD,)]
    with pytest.raises(IncompleteResultsError, match="incomplete: 20 of 40"):
        sql(folder, "SELECT 1", require_complete=True)

    run = CliRunner().invoke
    res = run(cli, ["sql", str(folder), "SELECT count(*) AS n FROM generations", "--format", "csv"])
    assert res.exit_code == 0
    assert res.stdout.split() == ["n", "20"]
    assert res.stderr.strip() == f"warning: {expected}"
    res = run(cli, ["sql", str(folder), "SELECT 1", "--require-complete"])
    assert res.exit_code == 1
    assert res.stderr.strip().splitlines() == [
        f"error: results {folder} are incomplete: 20 of 40 generations classified; "
        "rerun `corpusmap classify` to finish"
    ]

    page = report(folder, tmp_path / "report").read_text()
    assert 'id="incomplete"' in page and "20 of 40 generations classified" in page

    classify(world["table"], world["ix"], folder, **world["kw"])  # the rerun finishes it
    assert results_status(folder)["complete"]
    assert sql(folder, "SELECT count(*) FROM generations").fetchall() == [(N,)]
    page = report(folder, tmp_path / "report2").read_text()
    assert 'id="incomplete"' not in page


def test_unfinished_pattern_stage_is_marked(world, tmp_path) -> None:
    folder = tmp_path / "r"
    shutil.copytree(world["complete"], folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["completed_at"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    status = results_status(folder)
    assert not status["complete"] and status["classified"] == N
    assert "did not finish" in status["message"]


def test_not_results(tmp_path) -> None:
    with pytest.raises(CorpusmapError, match=r"no manifest\.json"):
        results_status(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "corpusmap-index"}')
    with pytest.raises(CorpusmapError, match="not a corpusmap results manifest"):
        sql(tmp_path, "SELECT 1")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(CorpusmapError, match="unreadable manifest"):
        results_status(tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{R}"], 'missing QUERY: corpusmap sql RESULTS... "SELECT ..."'),
        ([], "missing QUERY"),
        (["SELECT 1"], "missing RESULTS folder before the query"),
        (["{R}/nope", "SELECT 1"], "is not a folder"),
        (["{R}", "SELECT 1", "--out", "{O}/x.csv"], "--out needs --format"),
    ],
)
def test_cli_usage_errors(world, tmp_path, args, message) -> None:
    args = [a.replace("{R}", str(world["complete"])).replace("{O}", str(tmp_path)) for a in args]
    res = CliRunner().invoke(cli, ["sql", *args])
    assert res.exit_code == 2 and message in res.output, res.output
    assert "Missing argument 'RESULTS" not in res.output


def _snapshot(*folders: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for f in folders for p in sorted(f.rglob("*")) if p.is_file()}


def test_out_never_lands_in_corpusmap_folders(world, tmp_path) -> None:
    results, index = world["complete"], Path(world["ix"].path)
    (tmp_path / "link").symlink_to(results / "generations")
    before = _snapshot(results, index)
    query = "SELECT gen_id FROM generations"
    for out in (
        results / "generations" / "part-00000.parquet",
        results / "new.parquet",
        index / "shard-000" / "docs.parquet",
        index / "x.parquet",
        tmp_path / "link" / "part-00001.parquet",
        tmp_path / "link" / ".." / "manifest.json",
    ):
        for fmt in ("parquet", "csv", "json"):
            res = CliRunner().invoke(
                cli, ["sql", str(results), query, "--format", fmt, "--out", str(out)]
            )
            assert res.exit_code == 1, res.output
            assert res.output.startswith("error: --out") and "corpusmap owns" in res.output
    assert _snapshot(results, index) == before
    for fmt in ("parquet", "csv", "json"):  # anywhere else is fine
        out = tmp_path / f"ok.{fmt}"
        res = CliRunner().invoke(
            cli, ["sql", str(results), query, "--format", fmt, "--out", str(out)]
        )
        assert res.exit_code == 0 and f"{N} rows" in res.output, res.output
    assert pq.read_table(tmp_path / "ok.parquet").num_rows == N
    assert len((tmp_path / "ok.csv").read_text().split()) == N + 1
    assert len(json.loads((tmp_path / "ok.json").read_text())) == N
