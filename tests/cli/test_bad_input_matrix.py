"""Every command x every class of bad input: exit != 0, one error line naming the file, no
traceback, nothing published.

The classes (issue 11): missing, empty, truncated, wrong type, wrong encoding,
wrong format, hostile text, unwritable output, foreign files in output folders.
Each case builds its bad input in its own folder, runs the real ``cli`` through
click's runner and checks:

* the exit status is not 0 and the exception (if any) is ``SystemExit``;
* stderr holds exactly one ``error:``/``Error:`` line (``problem:`` for
  ``index verify``, which lists what it found), naming the file (or the
  value) that was wrong, with no terminal escape characters;
* no ``Traceback`` anywhere;
* nothing was published: no new non-hidden file under the case's folder and the
  shared inputs (indexes, results, store) are byte-for-byte untouched.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from corpusmap.cli import cli
from tests.generation.tiny import SENTENCES, build_tiny_model

LATIN1 = "caf\xe9 cr\xe8me".encode("latin-1")
HOSTILE = "evil\n\x1b[31mred\u202e.jsonl"


@pytest.fixture(scope="module")
def fx(tmp_path_factory) -> dict[str, Path]:
    """Good inputs shared by every case: indexes, a results folder, a store, a model."""
    os.environ.setdefault("CORPUSMAP_PROGRESS", "0")
    base = tmp_path_factory.mktemp("good")
    run = CliRunner()

    def ok(*args: str) -> None:
        res = run.invoke(cli, list(args))
        assert res.exit_code == 0, res.output

    corpus = base / "c.jsonl"
    corpus.write_text("".join(json.dumps({"text": s}) + "\n" for s in SENTENCES * 4))
    ok("index", "build", str(corpus), "--out", str(base / "ix"), "--workers", "1")
    ok(
        "index",
        "build",
        str(corpus),
        "--out",
        str(base / "wx"),
        "--tokenizer",
        "words",
        "--workers",
        "1",
        "--no-minhash",
    )
    model = build_tiny_model(base / "tiny")
    prompts = base / "p.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": s[:12]}) + "\n" for s in SENTENCES))
    ok(
        "generate",
        "--model",
        str(model),
        "--prompts",
        str(prompts),
        "--out",
        str(base / "G"),
        "--max-new-tokens",
        "4",
    )
    ok("classify", str(base / "G"), "--index", str(base / "ix"), "--out", str(base / "R"))
    return {
        "ix": base / "ix",
        "wx": base / "wx",
        "G": base / "G",
        "R": base / "R",
        "model": model,
        "corpus": corpus,
        "prompts": prompts,
    }


def _state(folders: list[Path]) -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for f in folders
        for p in f.rglob("*")
        if p.is_file() and ".lock" not in p.name
    }


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _cut(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _gz_cut(path: Path, lines: int = 300) -> Path:
    body = "".join(json.dumps({"text": f"line {i} " * 20}) + "\n" for i in range(lines))
    data = gzip.compress(body.encode())
    return _write(path, data[: len(data) // 2])


def _dir(path: Path) -> Path:
    path.mkdir()
    return path


def _foreign(path: Path) -> Path:
    _write(path / "notes.txt", "the user's own file")
    return path


def _gens(path: Path, **cols: list[Any]) -> Path:
    pq.write_table(pa.table(cols), path)
    return path


# Each case: (id, build(tmp, fx) -> (argv, text the error line must contain)).
Case = tuple[str, Callable[[Path, dict[str, Path]], tuple[list[str], str]]]
QUERY_CMDS = ["count", "locate", "ntd", "match"]


def _index_cases() -> list[Case]:
    cases: list[Case] = []
    for cmd in ["info", "verify", *QUERY_CMDS, "document", "near-dups", "dups"]:
        tail = {"document": ["0"], "near-dups": ["the quick brown fox"], "dups": []}.get(
            cmd, [] if cmd in ("info", "verify") else ["fox"]
        )

        def missing(t, f, cmd=cmd, tail=tail):
            return ["index", cmd, str(t / "nope"), *tail], "nope"

        def empty(t, f, cmd=cmd, tail=tail):
            (t / "empty").mkdir()
            return ["index", cmd, str(t / "empty"), *tail], "empty"

        def wrong_type(t, f, cmd=cmd, tail=tail):
            return ["index", cmd, str(_write(t / "afile", "x")), *tail], "afile"

        def wrong_format(t, f, cmd=cmd, tail=tail):
            ix = _copy(f["ix"], t / "ix")
            _write(ix / "manifest.json", "{not json")
            return ["index", cmd, str(ix), *tail], "manifest.json"

        def truncated(t, f, cmd=cmd, tail=tail):
            ix = _copy(f["ix"], t / "ix")
            _cut(ix / "manifest.json")
            return ["index", cmd, str(ix), *tail], "manifest.json"

        def foreign(t, f, cmd=cmd, tail=tail):
            wx = _copy(f["wx"], t / "wx")
            (wx / "vocab.txt").unlink()
            if cmd in ("near-dups", "dups"):
                return ["index", cmd, str(wx), *tail], "wx"
            return ["index", cmd, str(wx), *tail], "vocab.txt"

        cases += [
            (f"index-{cmd}-missing", missing),
            (f"index-{cmd}-empty", empty),
            (f"index-{cmd}-wrong-type", wrong_type),
            (f"index-{cmd}-wrong-format", wrong_format),
            (f"index-{cmd}-truncated", truncated),
        ]
        if cmd != "info":  # info reads the manifest only (block checks at open: index/verify)
            cases.append((f"index-{cmd}-foreign", foreign))
    for cmd in QUERY_CMDS:

        def encoding(t, f, cmd=cmd):
            q = _write(t / "q.txt", b"fox\n" + LATIN1 + b"\n")
            return ["index", cmd, str(f["ix"]), "--file", str(q)], "q.txt:2"

        def hostile(t, f, cmd=cmd):
            return ["index", cmd, str(f["ix"]), "--tokens", "--", "1 \x1b[2J"], "not a token id"

        def too_big(t, f, cmd=cmd):
            return ["index", cmd, str(f["ix"]), "--tokens", "99999999999999999999999"], "999999"

        cases += [
            (f"index-{cmd}-wrong-encoding", encoding),
            (f"index-{cmd}-hostile", hostile),
            (f"index-{cmd}-wrong-type-tokens", too_big),
        ]
    return cases


def _build_cases() -> list[Case]:
    def b(*args: str) -> list[str]:
        return ["index", "build", *args, "--workers", "1"]

    return [
        ("build-missing", lambda t, f: (b(str(t / "nope.jsonl"), "--out", str(t / "o")), "nope")),
        (
            "build-empty",
            lambda t, f: (b(str(_write(t / "e.txt", " ")), "--out", str(t / "o")), "e.txt"),
        ),
        (
            "build-truncated",
            lambda t, f: (b(str(_gz_cut(t / "c.jsonl.gz")), "--out", str(t / "o")), "c.jsonl.gz"),
        ),
        (
            "build-wrong-type",
            lambda t, f: (
                b(str(_write(t / "c.jsonl", '{"text": 5}\n')), "--out", str(t / "o")),
                "c.jsonl:1",
            ),
        ),
        (
            "build-wrong-encoding",
            lambda t, f: (
                b(
                    str(_write(t / "c.jsonl", b'{"text": "' + LATIN1 + b'"}\n')),
                    "--out",
                    str(t / "o"),
                ),
                "c.jsonl:1",
            ),
        ),
        (
            "build-wrong-format",
            lambda t, f: (
                b(str(_write(t / "c.parquet", b"PAR1 nope")), "--out", str(t / "o")),
                "c.parquet",
            ),
        ),
        ("build-hostile", lambda t, f: (b(str(t / HOSTILE), "--out", str(t / "o")), "red")),
        (
            "build-unwritable-proc",
            lambda t, f: (b(str(f["corpus"]), "--out", "/proc/cm-x"), "/proc"),
        ),
        (
            "build-unwritable-file",
            lambda t, f: (
                b(str(f["corpus"]), "--out", str(_write(t / "afile", "x") / "sub")),
                "afile",
            ),
        ),
        (
            "build-foreign",
            lambda t, f: (
                b(str(f["corpus"]), "--out", str(_foreign(t / "o"))),
                "holds files corpusmap did not write",
            ),
        ),
        ("build-own-output", lambda t, f: (b(str(f["ix"]), "--out", str(t / "o")), "ix")),
        (
            "build-shard-tokens",
            lambda t, f: (
                b(str(f["corpus"]), "--out", str(t / "o"), "--shard-tokens", "0"),
                "--shard-tokens",
            ),
        ),
    ]


def _prompts_cases() -> list[Case]:
    def p(ix: Path | str, out: Path | str) -> list[str]:
        return ["prompts", str(ix), "--out", str(out), "--n", "3", "--prefix-tokens", "4"]

    return [
        ("prompts-missing", lambda t, f: (p(t / "nope", t / "p.parquet"), "nope")),
        (
            "prompts-empty",
            lambda t, f: (p(_dir(t / "e"), t / "p.parquet"), "e"),
        ),
        (
            "prompts-truncated",
            lambda t, f: (
                p(_cut(_copy(f["ix"], t / "ix") / "manifest.json").parent, t / "p.parquet"),
                "manifest.json",
            ),
        ),
        ("prompts-unwritable-proc", lambda t, f: (p(f["ix"], "/proc/cm-p.parquet"), "/proc")),
        (
            "prompts-unwritable-file",
            lambda t, f: (p(f["ix"], _write(t / "afile", "x") / "p.parquet"), "afile"),
        ),
    ]


def _generate_cases() -> list[Case]:
    def g(prompts: Path | str, out: Path | str, f: dict[str, Path]) -> list[str]:
        return [
            "generate",
            "--model",
            str(f["model"]),
            "--prompts",
            str(prompts),
            "--out",
            str(out),
            "--max-new-tokens",
            "2",
        ]

    return [
        ("generate-missing", lambda t, f: (g(t / "nope.jsonl", t / "G", f), "nope.jsonl")),
        (
            "generate-missing-model",
            lambda t, f: (
                [
                    "generate",
                    "--model",
                    str(t / "nomodel"),
                    "--prompts",
                    str(f["prompts"]),
                    "--out",
                    str(t / "G"),
                ],
                "nomodel",
            ),
        ),
        ("generate-empty", lambda t, f: (g(_write(t / "p.jsonl", ""), t / "G", f), "p.jsonl")),
        (
            "generate-truncated",
            lambda t, f: (g(_gz_cut(t / "p.jsonl.gz"), t / "G", f), "p.jsonl.gz"),
        ),
        (
            "generate-wrong-type",
            lambda t, f: (g(_write(t / "p.jsonl", '{"prompt": 7}\n'), t / "G", f), "p.jsonl:1"),
        ),
        (
            "generate-wrong-encoding",
            lambda t, f: (g(_write(t / "p.txt", LATIN1 + b"\n"), t / "G", f), "p.txt"),
        ),
        (
            "generate-wrong-format",
            lambda t, f: (g(_write(t / "p.parquet", b"nope"), t / "G", f), "p.parquet"),
        ),
        ("generate-hostile", lambda t, f: (g(t / HOSTILE, t / "G", f), "red")),
        ("generate-unwritable-proc", lambda t, f: (g(f["prompts"], "/proc/cm-G", f), "/proc")),
        (
            "generate-unwritable-file",
            lambda t, f: (g(f["prompts"], _write(t / "afile", "x") / "G", f), "afile"),
        ),
        ("generate-foreign", lambda t, f: (g(f["prompts"], _foreign(t / "G"), f), "G")),
    ]


def _replay_cases() -> list[Case]:
    def corrupt_part(t: Path, f: dict[str, Path]) -> tuple[list[str], str]:
        store = _copy(f["G"], t / "G")
        part = sorted(store.rglob("part-*.parquet"))[0]
        _write(part, b"PAR1 garbage")
        return ["replay", str(store)], part.name

    return [
        ("replay-missing", lambda t, f: (["replay", str(t / "nope")], "nope")),
        ("replay-empty", lambda t, f: (["replay", str(_dir(t / "e"))], "e")),
        ("replay-foreign", lambda t, f: (["replay", str(_foreign(t / "G"))], "G")),
        ("replay-truncated", corrupt_part),
    ]


def _classify_cases() -> list[Case]:
    def c(gens: Path | str, out: Path | str, f: dict[str, Path], *extra: str) -> list[str]:
        return ["classify", str(gens), "--index", str(f["ix"]), "--out", str(out), *extra]

    def corrupt_store(t: Path, f: dict[str, Path]) -> tuple[list[str], str]:
        store = _copy(f["G"], t / "G")
        part = sorted(store.rglob("part-*.parquet"))[0]
        _cut(part)
        return c(store, t / "R", f), part.name

    good = {"prompt": ["a", "b"], "output": ["the quick brown fox", "the lazy dog"]}
    return [
        ("classify-missing", lambda t, f: (c(t / "nope.parquet", t / "R", f), "nope.parquet")),
        (
            "classify-missing-index",
            lambda t, f: (
                ["classify", str(f["G"]), "--index", str(t / "noix"), "--out", str(t / "R")],
                "noix",
            ),
        ),
        ("classify-empty", lambda t, f: (c(_write(t / "g.jsonl", ""), t / "R", f), "g.jsonl")),
        (
            "classify-truncated-gz",
            lambda t, f: (c(_gz_cut(t / "g.jsonl.gz"), t / "R", f), "g.jsonl.gz"),
        ),
        (
            "classify-truncated-parquet",
            lambda t, f: (c(_cut(_gens(t / "g.parquet", **good)), t / "R", f), "g.parquet"),
        ),
        ("classify-truncated-store", corrupt_store),
        (
            "classify-wrong-type",
            lambda t, f: (
                c(_gens(t / "g.parquet", prompt=["a"], output=[1]), t / "R", f),
                "g.parquet",
            ),
        ),
        (
            "classify-null-output",
            lambda t, f: (
                c(_gens(t / "g.parquet", prompt=["a", "b"], output=["x", None]), t / "R", f),
                "g.parquet",
            ),
        ),
        (
            "classify-no-prompt",
            lambda t, f: (c(_gens(t / "g.parquet", output=["x"]), t / "R", f), "g.parquet"),
        ),
        (
            "classify-wrong-encoding",
            lambda t, f: (
                c(
                    _write(t / "g.jsonl", b'{"prompt": "a", "output": "' + LATIN1 + b'"}\n'),
                    t / "R",
                    f,
                ),
                "g.jsonl",
            ),
        ),
        (
            "classify-wrong-format",
            lambda t, f: (c(_write(t / "g.csv", "a,b\n"), t / "R", f), "g.csv"),
        ),
        ("classify-hostile", lambda t, f: (c(t / HOSTILE, t / "R", f), "red")),
        (
            "classify-bad-behaviours",
            lambda t, f: (
                c(
                    _gens(t / "g.parquet", **good),
                    t / "R",
                    f,
                    "--behaviors",
                    str(_write(t / "b.toml", "x = [\n")),
                ),
                "b.toml",
            ),
        ),
        (
            "classify-unwritable-proc",
            lambda t, f: (c(_gens(t / "g.parquet", **good), "/proc/cm-R", f), "/proc"),
        ),
        (
            "classify-unwritable-file",
            lambda t, f: (
                c(_gens(t / "g.parquet", **good), _write(t / "afile", "x") / "R", f),
                "afile",
            ),
        ),
        (
            "classify-foreign",
            lambda t, f: (
                c(_gens(t / "g.parquet", **good), _foreign(t / "R"), f),
                "holds files corpusmap did not write",
            ),
        ),
        (
            "classify-into-index",
            lambda t, f: (
                c(_gens(t / "g.parquet", **good), _copy(f["ix"], t / "ix2"), f, "--force"),
                "another kind",
            ),
        ),
    ]


def _query_cases() -> list[Case]:
    def bad_results(t: Path, f: dict[str, Path], text: str) -> Path:
        r = _copy(f["R"], t / "R")
        _write(r / "manifest.json", text)
        return r

    return [
        ("sql-missing", lambda t, f: (["sql", str(t / "nope"), "SELECT 1"], "nope")),
        (
            "sql-empty",
            lambda t, f: (["sql", str(_dir(t / "e")), "SELECT 1"], "e"),
        ),
        (
            "sql-wrong-format",
            lambda t, f: (["sql", str(bad_results(t, f, "{x")), "SELECT 1"], "manifest.json"),
        ),
        (
            "sql-truncated",
            lambda t, f: (
                ["sql", str(_cut(_copy(f["R"], t / "R") / "manifest.json").parent), "SELECT 1"],
                "manifest.json",
            ),
        ),
        (
            "sql-hostile",
            lambda t, f: (
                ["sql", str(f["R"]), "COPY (SELECT 1) TO '" + str(t / "x.csv") + "'"],
                "",
            ),
        ),
        (
            "sql-unwritable",
            lambda t, f: (
                ["sql", str(f["R"]), "SELECT 1", "--format", "csv", "--out", "/proc/cm-x.csv"],
                "/proc",
            ),
        ),
        (
            "report-missing",
            lambda t, f: (["report", str(t / "nope"), "--out", str(t / "rep")], "nope"),
        ),
        (
            "report-empty",
            lambda t, f: (
                ["report", str(_dir(t / "e")), "--out", str(t / "rep")],
                "e",
            ),
        ),
        (
            "report-wrong-format",
            lambda t, f: (
                ["report", str(bad_results(t, f, "[1]")), "--out", str(t / "rep")],
                "manifest.json",
            ),
        ),
        (
            "report-unwritable-proc",
            lambda t, f: (["report", str(f["R"]), "--out", "/proc/cm-rep"], "/proc"),
        ),
        (
            "report-unwritable-file",
            lambda t, f: (
                ["report", str(f["R"]), "--out", str(_write(t / "afile", "x") / "rep")],
                "afile",
            ),
        ),
        (
            "report-foreign",
            lambda t, f: (["report", str(f["R"]), "--out", str(_foreign(t / "rep"))], "rep"),
        ),
    ]


CASES = (
    _index_cases()
    + _build_cases()
    + _prompts_cases()
    + _generate_cases()
    + _replay_cases()
    + _classify_cases()
    + _query_cases()
)


def _published(before: set[Path], root: Path) -> list[Path]:
    """New files under ``root`` that a reader could take for output (hidden ones are temps)."""
    new = {p for p in root.rglob("*") if p.is_file()} - before
    return sorted(
        p for p in new if not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(case: Case, fx, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    t = tmp_path / "case"
    t.mkdir()
    argv, named = case[1](t, fx)
    shared = [fx["ix"], fx["wx"], fx["G"], fx["R"]]
    before_shared = _state(shared)
    before = {p for p in t.rglob("*") if p.is_file()}
    res = CliRunner().invoke(cli, argv)
    stderr = res.stderr
    assert res.exit_code not in (0, None), res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    lines = [x for x in stderr.splitlines() if x.startswith(("error:", "Error:", "problem:"))]
    assert len(lines) == 1, stderr
    assert "\x1b" not in lines[0] and "\u202e" not in lines[0], lines[0]
    if named:
        assert named in lines[0], lines[0]
    assert _published(before, t) == []
    assert _state(shared) == before_shared


def test_report_without_matplotlib_is_one_line_and_writes_nothing(
    fx, tmp_path, monkeypatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    res = CliRunner().invoke(cli, ["report", str(fx["R"]), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "pip install 'corpusmap[demo]'" in res.stderr
    assert not (tmp_path / "rep").exists()


def test_serve_app_factory_refuses_bad_results(fx, tmp_path) -> None:
    pytest.importorskip("starlette")
    from corpusmap.errors import CorpusmapError
    from corpusmap.explorer.app import create_app

    bad = _copy(fx["R"], tmp_path / "R")
    _write(bad / "manifest.json", "{x")
    for folder, named in ((bad, "manifest.json"), (tmp_path / "nope", "nope")):
        with pytest.raises(CorpusmapError, match=named):
            create_app([folder])


def test_debug_shows_the_traceback(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CORPUSMAP_DEBUG", "1")
    res = CliRunner().invoke(cli, ["index", "info", str(tmp_path / "nope")])
    assert res.exit_code != 0 and res.exception is not None
    assert not isinstance(res.exception, SystemExit)


def test_an_internal_error_keeps_its_traceback(tmp_path, monkeypatch) -> None:
    """A ValueError not tied to a path the user typed is a bug: it is not made one line."""
    import corpusmap.index.index as index_mod

    def broken(*a: Any, **k: Any) -> None:
        raise ValueError("internal bug")

    monkeypatch.setattr(index_mod, "open_index", broken)
    monkeypatch.setattr("corpusmap.cli.index.open_index", broken)
    res = CliRunner().invoke(cli, ["index", "info", str(tmp_path)])
    assert isinstance(res.exception, ValueError)
