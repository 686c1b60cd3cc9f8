"""``corpusmap index near-dups`` and ``corpusmap index dups`` through the real entry point."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from corpusmap.cli import cli
from tests.conftest import write_jsonl

BASE = " ".join(f"w{i}" for i in range(60))
EDITED = BASE.replace("w30", "changed")  # one word: 5 of 56 shingles differ, J = 51/61


@pytest.fixture(scope="module")
def built(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("mhcli")
    texts = [BASE, " ".join(f"v{i}" for i in range(60)), BASE, EDITED, "short text"]
    src = write_jsonl(tmp / "c.jsonl", texts)
    out = tmp / "idx"
    res = CliRunner().invoke(cli, ["index", "build", str(src), "--out", str(out),
                                   "--tokenizer", "words", "--workers", "1"])  # fmt: skip
    assert res.exit_code == 0, res.output
    return out


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output


def test_near_dups_json_text_and_file(built, tmp_path) -> None:
    code, out = run("index", "near-dups", str(built), BASE, "nothing like it", "--json")
    assert code == 0, out
    first, second = json.loads(out)
    assert [h["doc_id"] for h in first] == [0, 2, 3] and second == []
    assert first[0]["jaccard"] == 1.0 and first[2]["jaccard"] < 1.0
    f = write_jsonl(tmp_path / "q.jsonl", [], body=[])
    f.write_text(json.dumps({"body": EDITED}) + "\n", encoding="utf-8")
    code, out = run("index", "near-dups", str(built), "--file", str(f), "--field", "body",
                    "--exact", "--threshold", "0.7", "--json")  # fmt: skip
    assert code == 0, out
    (hits,) = json.loads(out)
    assert hits[0]["doc_id"] == 3 and hits[0]["exact_jaccard"] == 1.0
    assert {h["doc_id"]: h["exact_jaccard"] for h in hits}[0] == pytest.approx(51 / 61)
    lines = tmp_path / "q.txt"
    lines.write_text(BASE + "\n", encoding="utf-8")
    code, out = run("index", "near-dups", str(built), "--file", str(lines), "--limit", "1")
    assert code == 0 and "1 near-duplicate(s)" in out and "1.000" in out


def test_near_dups_errors(built, tmp_path) -> None:
    code, out = run("index", "near-dups", str(built))
    assert code != 0 and "TEXT or --file" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n{"other": 1}\n', encoding="utf-8")
    code, out = run("index", "near-dups", str(built), "--file", str(bad))
    assert code == 1 and "bad.jsonl:2" in out and "--field" in out


def test_dups_table_json_and_parquet(built, tmp_path) -> None:
    code, out = run("index", "dups", str(built), "--json", "--threshold", "0.95")
    assert code == 0, out
    assert json.loads(out) == [{"cluster_id": 0, "cluster_size": 2, "doc_ids": [0, 2]}]
    code, out = run(
        "index", "dups", str(built), "--threshold", "0.7", "--out", str(tmp_path / "d.parquet")
    )
    assert code == 0 and "1 near-duplicate cluster" in out
    table = pq.read_table(tmp_path / "d.parquet")
    assert table.to_pydict() == {
        "doc_id": [0, 2, 3],
        "cluster_id": [0, 0, 0],
        "cluster_size": [3, 3, 3],
    }


def test_index_without_minhash_says_how_to_fix(tmp_path) -> None:
    src = write_jsonl(tmp_path / "c.jsonl", ["a b c d e f"])
    run("index", "build", str(src), "--out", str(tmp_path / "i"), "--no-minhash", "--workers", "1")
    code, out = run("index", "near-dups", str(tmp_path / "i"), "a b c")
    assert code == 1 and "no MinHash" in out and "--no-minhash" in out


@pytest.mark.parametrize("cmd", ["near-dups", "dups"])
def test_commands_have_help(cmd: str) -> None:
    code, out = run("index", cmd, "--help")
    assert code == 0 and "--threshold" in out and "--json" in out
