"""One clear line, no traceback, for the bad inputs of issue 11 (through the real ``cli``)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from corpusmap.cli import cli
from tests.conftest import build_from_docs


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ix")
    return build_from_docs(tmp, ["the quick brown fox", "over the lazy dog"], minhash=False)


def _fails(args: list[str], expect: str) -> str:
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert expect in lines[0], lines[0]
    return lines[0]


def test_query_file_with_a_non_utf8_line_names_file_and_line(tmp_path, ix) -> None:
    q = tmp_path / "q.txt"
    q.write_bytes(b"fox\nlazy \xff dog\n")
    _fails(["index", "count", str(ix), "--file", str(q)], f"{q}:2: not UTF-8")


@pytest.mark.parametrize("bad", ["abc", "99999999999999999999999", "-3", "1.5"])
def test_bad_token_ids_are_one_line(ix, bad) -> None:
    _fails(["index", "count", str(ix), "--tokens", "--", f"1 {bad}"], f"{bad!r} is not a token id")


def test_words_index_without_its_vocabulary(tmp_path) -> None:
    path = build_from_docs(tmp_path, ["a b c", "b c d"], tokenizer="words", minhash=False)
    (path / "vocab.txt").unlink()
    line = _fails(["index", "count", str(path), "b c"], "vocab.txt")
    assert "missing" in line and "rebuild" in line


@pytest.mark.parametrize("out", ["/proc/corpusmap-x", "FILE/sub"])
def test_build_into_an_unwritable_place(tmp_path, out) -> None:
    src = tmp_path / "c.txt"
    src.write_text("some text\n")
    out = out.replace("FILE", str(src))
    _fails(["index", "build", str(src), "--out", out, "--workers", "1"], "choose another --out")


def test_build_of_nothing_names_the_sources(tmp_path) -> None:
    (tmp_path / "e").mkdir()
    _fails(["index", "build", str(tmp_path / "e"), "--out", str(tmp_path / "i")], "no documents")
