"""Plain progress lines when stderr is not a terminal (make, pipes, logs)."""

from __future__ import annotations

import io
import re

from corpusmap.progress import LineProgress, line, progress_bar


def test_line_says_stage_count_rate_and_eta() -> None:
    """48 of 96 in 30 s: 1.6/s, 48 left: ETA 30 s."""
    assert line("generating", 48, 96, "prompt", 30.0) == (
        "corpusmap: generating 48/96 prompt (50%) 1.6 prompt/s, ETA 30s"
    )
    assert line("tokens", 500, None, "tok", 10.0) == "corpusmap: tokens 500 tok 50.0 tok/s"


def test_lines_are_periodic_and_the_last_one_is_printed() -> None:
    out = io.StringIO()
    prog = LineProgress(every=3600, stream=out)
    task = prog.add_task("classify", total=5, unit="gen")
    for _ in range(5):
        prog.advance(task, 1)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and re.match(r"corpusmap: classify 5/5 gen \(100%\)", lines[0])
    out = io.StringIO()
    prog = LineProgress(every=0, stream=out)
    task = prog.add_task("index", total=3, unit="doc")
    for _ in range(3):
        prog.advance(task)
    assert [x.split(" doc")[0] for x in out.getvalue().splitlines()] == [
        "corpusmap: index 1/3", "corpusmap: index 2/3", "corpusmap: index 3/3"
    ]  # fmt: skip


def test_progress_bar_gives_lines_when_stderr_is_not_a_tty(monkeypatch, capsys) -> None:
    monkeypatch.delenv("CORPUSMAP_PROGRESS", raising=False)
    monkeypatch.setenv("CORPUSMAP_PROGRESS_EVERY", "0")
    with progress_bar() as prog:  # pytest's captured stderr is not a terminal
        assert isinstance(prog, LineProgress)
        task = prog.add_task("generating", total=2, unit="prompt")
        prog.advance(task, 2)
    assert "corpusmap: generating 2/2 prompt (100%)" in capsys.readouterr().err
    monkeypatch.setenv("CORPUSMAP_PROGRESS", "0")
    with progress_bar() as prog:
        assert not isinstance(prog, LineProgress)
