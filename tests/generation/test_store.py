"""The Parquet store: crash and resume, temp parts, parameter checks, runs, readers."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest

from corpusmap.errors import CorpusmapError
from corpusmap.generation import GenerationStore, generate
from corpusmap.generation.store import RunWriter
from tests.generation.tiny import PROMPTS, assert_same_rows, rows_by_id

KW = {"max_new_tokens": 8, "num_samples": 2, "temperature": 0.8, "part_rows": 3, "batch_size": 2}
N_ROWS = len(PROMPTS) * 2  # 14 rows -> parts of 3, 3, 3, 3, 2


class Killed(Exception):
    """Stands for a kill -9 in the middle of a run."""


def crash_after(monkeypatch, parts: int) -> None:
    """Make the writer die while writing part number ``parts`` (0-based): that part's
    temp file is left half-written, as a killed process would leave it."""
    real = RunWriter.write_part
    calls = {"n": 0}

    def write_part(self, table):
        if calls["n"] == parts:
            (self.folder / f".part-{self.next_part:05d}.parquet.tmp").write_bytes(b"PAR1 half")
            raise Killed
        calls["n"] += 1
        return real(self, table)

    monkeypatch.setattr(RunWriter, "write_part", write_part)


def test_resume_after_crash_loses_and_duplicates_nothing(tiny_model, tmp_path, monkeypatch):
    full = rows_by_id(generate(tiny_model, PROMPTS, tmp_path / "full", **KW).to_arrow())
    out = tmp_path / "G.parquet"
    crash_after(monkeypatch, 2)
    with pytest.raises(Killed):
        generate(tiny_model, PROMPTS, out, **KW)
    monkeypatch.undo()
    # while dead: readers see exactly the two finished parts, never the temp file
    assert (out / ".part-00002.parquet.tmp").exists()
    assert duckdb.sql(f"select count(*) from read_parquet('{out}/**/*.parquet')").fetchall() == [
        (6,)
    ]
    assert pl.scan_parquet(f"{out}/**/*.parquet").collect().height == 6
    assert GenerationStore(out).to_arrow().num_rows == 6
    store = generate(tiny_model, PROMPTS, out, **KW)
    assert store.summary["rows_skipped"] == 6 and store.summary["rows_written"] == N_ROWS - 6
    assert not list(out.glob(".*.tmp")), "leftover temp part cleaned on resume"
    table = store.to_arrow()
    assert table.num_rows == N_ROWS and len(set(table.column("gen_id").to_pylist())) == N_ROWS
    assert_same_rows(rows_by_id(table), full)
    manifest = json.loads((out / "_manifest.json").read_text())
    assert sum(p["rows"] for p in manifest["runs"][0]["parts"]) == N_ROWS
    assert len(manifest["runs"][0]["sessions"]) == 2


def test_deleted_part_and_unrecorded_part(tiny_model, tmp_path):
    """A lost part is regenerated; a part renamed just before a crash but missing from the
    manifest is kept (the parts on disk are the truth)."""
    out = tmp_path / "G.parquet"
    full = rows_by_id(generate(tiny_model, PROMPTS, out, **KW).to_arrow())
    (out / "part-00004.parquet").unlink()  # the last part (2 rows)
    manifest = json.loads((out / "_manifest.json").read_text())
    manifest["runs"][0]["parts"] = manifest["runs"][0]["parts"][:2]  # forget parts 2, 3
    (out / "_manifest.json").write_text(json.dumps(manifest))
    store = generate(tiny_model, PROMPTS, out, **KW)
    assert store.summary["rows_written"] == 2
    assert_same_rows(rows_by_id(store.to_arrow()), full)
    names = [p["file"] for p in store.manifest["runs"][0]["parts"]]
    assert names == [f"part-0000{i}.parquet" for i in range(5)]


def test_other_parameters_are_refused_unless_new_run(tiny_model, tmp_path):
    out = tmp_path / "G.parquet"
    first = rows_by_id(generate(tiny_model, PROMPTS, out, **KW).to_arrow())
    hotter = {**KW, "temperature": 1.2}
    with pytest.raises(CorpusmapError, match=r"temperature: 0\.8 -> 1\.2.*--new-run"):
        generate(tiny_model, PROMPTS, out, **hotter)
    store = generate(tiny_model, PROMPTS, out, **hotter, new_run=True)
    assert store.summary["run"] == 2 and (out / "run=2" / "part-00000.parquet").is_file()
    # the same new-run command resumes run 2 instead of opening run 3
    again = generate(tiny_model, PROMPTS, out, **hotter, new_run=True)
    assert again.summary == {**again.summary, "run": 2, "rows_written": 0}
    assert len(again.runs) == 2
    # the first run's rows are untouched; the whole store reads as one table
    assert_same_rows(rows_by_id(GenerationStore(out).to_arrow(run=1)), first)
    both = duckdb.sql(
        f"select params_id, count(*) from read_parquet('{out}/**/*.parquet') group by 1"
    ).fetchall()
    assert sorted(n for _, n in both) == [N_ROWS, N_ROWS]
    assert pl.scan_parquet(f"{out}/**/*.parquet").collect().height == 2 * N_ROWS
    assert GenerationStore(out).to_arrow().num_rows == 2 * N_ROWS
    # batch size and part size are not parameters: resuming with others is fine
    generate(tiny_model, PROMPTS, out, **{**KW, "batch_size": 5, "part_rows": 7})


def test_more_prompts_extend_a_run(tiny_model, tmp_path):
    out = tmp_path / "G.parquet"
    generate(tiny_model, PROMPTS[:3], out, **KW)
    store = generate(tiny_model, PROMPTS, out, **KW)
    assert store.summary["rows_skipped"] == 6
    assert store.to_arrow().num_rows == N_ROWS


def test_one_writer_at_a_time_and_foreign_folders(tiny_model, tmp_path):
    out = tmp_path / "G.parquet"
    generate(tiny_model, PROMPTS[:2], out, **KW)
    from corpusmap.generation.store import open_run

    store = GenerationStore(out)
    holder = open_run(out, store.run_params(1), False, {})
    try:
        with pytest.raises(CorpusmapError, match="another process is writing"):
            generate(tiny_model, PROMPTS, out, **KW)
    finally:
        holder.close()
    other = tmp_path / "not-a-store"
    other.mkdir()
    (other / "data.csv").write_text("a,b\n")
    with pytest.raises(CorpusmapError, match="not a generation store"):
        generate(tiny_model, PROMPTS, other, **KW)
    with pytest.raises(CorpusmapError, match="not a generation store"):
        GenerationStore(tmp_path / "missing")


def test_prompt_columns_must_match_the_store(tiny_model, tmp_path):
    out = tmp_path / "G.parquet"
    generate(tiny_model, [{"prompt": "a cat", "doc_id": 1}], out, **KW)
    with pytest.raises(CorpusmapError, match="other columns"):
        # the same prompt (other prompts are refused earlier, test_prompt_runs.py)
        generate(tiny_model, [{"prompt": "a cat", "source": "x"}], out, **KW)


DRIVER = """
import sys, time
from corpusmap.generation.store import RunWriter
real = RunWriter.write_part
def slow(self, table):  # give the test time to kill between parts
    path = real(self, table)
    time.sleep(0.3)
    return path
RunWriter.write_part = slow
from corpusmap.generation import generate
from tests.generation.tiny import PROMPTS
generate(sys.argv[1], PROMPTS, sys.argv[2], **{kw})
"""


def test_kill_9_then_resume(tiny_model, tmp_path):
    """A real SIGKILL of a generating process: rerunning completes the store exactly."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    kw = {**KW, "part_rows": 1}
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.replace("{kw}", repr(kw)))
    out = tmp_path / "G.parquet"
    env = {**os.environ, "PYTHONPATH": str(repo)}
    proc = subprocess.Popen([sys.executable, str(script), tiny_model, str(out)], env=env)
    deadline = time.monotonic() + 60
    while len(list(out.glob("part-*.parquet"))) < 3 and time.monotonic() < deadline:
        assert proc.poll() is None, "driver ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list(out.glob("part-*.parquet")))
    assert 3 <= finished < N_ROWS
    store = generate(tiny_model, PROMPTS, out, **kw)
    assert store.summary["rows_skipped"] >= 3
    full = rows_by_id(generate(tiny_model, PROMPTS, tmp_path / "full", **kw).to_arrow())
    table = store.to_arrow()
    assert table.num_rows == N_ROWS == len(set(table.column("gen_id").to_pylist()))
    assert_same_rows(rows_by_id(table), full)


def test_store_reads_as_a_dataset_and_old_manifests_still_open(tiny_model, tmp_path):
    """The manifest follows the Hive convention (``_manifest.json``), so dataset readers
    given the bare folder skip it; a store with the old ``manifest.json`` still opens."""
    import pyarrow.parquet as pq

    out = tmp_path / "G.parquet"
    generate(tiny_model, PROMPTS, out, max_new_tokens=3, part_rows=3)
    assert (out / "_manifest.json").is_file() and not (out / "manifest.json").exists()
    ids = sorted(GenerationStore(out).to_arrow().column("gen_id").to_pylist())
    assert sorted(pq.read_table(out).column("gen_id").to_pylist()) == ids
    assert sorted(pl.read_parquet(f"{out}/*.parquet")["gen_id"].to_list()) == ids
    # polars refuses a bare folder holding any non-Parquet file (the .lock too): use a glob
    # a store written before the rename: read as is, renamed on its next write
    (out / "_manifest.json").rename(out / "manifest.json")
    assert GenerationStore(out).runs[0]["rows"] == len(ids)
    generate(tiny_model, PROMPTS, out, max_new_tokens=3, part_rows=3)  # resumes, writes nothing
    assert (out / "_manifest.json").is_file() and not (out / "manifest.json").exists()
    from corpusmap.match.inputs import read_table

    assert sorted(read_table(out).column("gen_id").to_pylist()) == ids
