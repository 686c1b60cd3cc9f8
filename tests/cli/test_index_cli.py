"""The ``corpusmap index`` commands, through the click entry point and a real process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from corpusmap.cli import cli
from tests.conftest import write_jsonl


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    src = write_jsonl(tmp / "c.jsonl", ["the cat sat on the mat", "the dog sat on the log"])
    out = tmp / "idx"
    res = CliRunner().invoke(
        cli, ["index", "build", str(src), "--out", str(out), "--workers", "1", "--no-minhash"]
    )
    assert res.exit_code == 0, res.output
    assert "2 documents" in res.output
    return out


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output


def test_count_batch_and_json(built) -> None:
    code, out = run("index", "count", str(built), "sat on the", "cat", "--json")
    assert code == 0
    assert json.loads(out) == [{"query": "sat on the", "count": 2}, {"query": "cat", "count": 1}]


def test_locate_ntd_match_document(built) -> None:
    code, out = run("index", "locate", str(built), "the log", "--json")
    assert code == 0 and [(h["doc_id"], h["offset"]) for h in json.loads(out)[0]] == [(1, 15)]
    code, out = run("index", "ntd", str(built), "sat on the ", "--json")
    assert {d["text"]: d["count"] for d in json.loads(out)[0]["distribution"]} == {"m": 1, "l": 1}
    code, out = run("index", "match", str(built), "a dog sat on the mat!", "--json")
    assert json.loads(out)[0]["longest_match"] == {"start": 1, "length": 16}  # " dog sat on the "
    code, out = run("index", "document", str(built), "1")
    assert code == 0 and out.strip() == "the dog sat on the log"


def test_info_and_verify(built) -> None:
    code, out = run("index", "info", str(built), "--json")
    assert code == 0 and json.loads(out)["n_docs"] == 2
    code, out = run("index", "verify", str(built))
    assert code == 0 and "OK" in out


def test_tokens_flag_and_file(built, tmp_path) -> None:
    qfile = tmp_path / "q.txt"
    qfile.write_text("cat\ndog\nzebra\n")
    code, out = run("index", "count", str(built), "--file", str(qfile))
    assert code == 0 and out.split("\n")[:3] == ["1\tcat", "1\tdog", "0\tzebra"]
    code, out = run("index", "count", str(built), "--tokens", "116 104 101", "--json")  # "the"
    assert json.loads(out)[0]["count"] == 4


def test_errors_are_one_line_and_exit_1(tmp_path) -> None:
    """The installed entry point turns library errors into `error: ...` and exit status 1."""
    proc = subprocess.run(
        [sys.executable, "-m", "corpusmap", "index", "count", str(tmp_path / "nope"), "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "no such index folder" in proc.stderr
    assert "Traceback" not in proc.stderr
