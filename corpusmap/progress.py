"""Progress for long stages: rich bars on a terminal, plain periodic lines elsewhere.

One helper so every stage shows the same things: what it is doing, the count,
the rate and the time left. On a terminal they are rich bars; under ``make``,
a pipe or a log file (stderr not a TTY) they are plain lines every
``CORPUSMAP_PROGRESS_EVERY`` seconds (default 10) and when a task finishes::

    corpusmap: generating 48/96 prompt (50%) 1.6 prompt/s, ETA 30s

Set ``CORPUSMAP_PROGRESS=0`` to silence both, ``=1`` to force bars (a notebook).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_enabled() -> bool:
    """Whether bars are drawn: forced by CORPUSMAP_PROGRESS, else only on a tty."""
    flag = os.environ.get("CORPUSMAP_PROGRESS")
    if flag is not None:
        return flag not in ("0", "false", "no", "")
    return sys.stderr.isatty()


class _Rate(TextColumn):
    """Items per second with a unit, e.g. ``12.3k tok/s``."""

    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[no-untyped-def]
        from rich.text import Text

        speed = task.finished_speed or task.speed
        if not speed:
            return Text("", style="progress.data.speed")
        unit = task.fields.get("unit", "it")
        for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1, "")):
            if speed >= scale:
                return Text(f"{speed / scale:.1f}{suffix} {unit}/s", style="progress.data.speed")
        return Text(f"{speed:.2f} {unit}/s", style="progress.data.speed")


@dataclass
class _Task:
    description: str
    total: float | None
    unit: str
    done: float = 0.0
    started: float = field(default_factory=time.monotonic)


class LineProgress:
    """The subset of rich's ``Progress`` the stages use, printing plain lines to stderr."""

    def __init__(self, every: float | None = None, stream: Any = None) -> None:
        self.every = every if every is not None else _every()
        self.stream = stream or sys.stderr
        self.tasks: list[_Task] = []
        self._last = time.monotonic()

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        self.tasks.append(_Task(description, total, str(fields.get("unit", "it"))))
        return len(self.tasks) - 1

    def advance(self, task: int, advance: float = 1) -> None:
        self.tasks[task].done += advance
        self._maybe_print(task)

    def update(self, task: int, *, total: float | None = None, completed: float | None = None,
               advance: float | None = None, **_: Any) -> None:  # fmt: skip
        t = self.tasks[task]
        t.total = total if total is not None else t.total
        t.done = completed if completed is not None else t.done + (advance or 0)
        self._maybe_print(task)

    def _maybe_print(self, task: int) -> None:
        t, now = self.tasks[task], time.monotonic()
        finished = t.total is not None and t.done >= t.total
        if finished or now - self._last >= self.every:
            self._last = now
            print(line(t.description, t.done, t.total, t.unit, now - t.started),
                  file=self.stream, flush=True)  # fmt: skip


def _every() -> float:
    try:
        return float(os.environ.get("CORPUSMAP_PROGRESS_EVERY", "10"))
    except ValueError:
        return 10.0


def line(stage: str, done: float, total: float | None, unit: str, elapsed: float) -> str:
    """``corpusmap: STAGE done/total unit (pct) rate, ETA``: one plain progress line."""
    rate = done / elapsed if elapsed > 0 else 0.0
    count = f"{done:,.0f}" if total is None else f"{done:,.0f}/{total:,.0f}"
    text = f"corpusmap: {stage} {count} {unit}"
    if total:
        text += f" ({100 * done / total:.0f}%)"
    text += f" {rate:,.1f} {unit}/s"
    if total and rate > 0:
        text += f", ETA {max(total - done, 0) / rate:.0f}s"
    return text


@contextmanager
def progress_bar() -> Iterator[Any]:
    """A rich Progress (description, bar, count, rate, elapsed, ETA) on a terminal or when
    forced; plain periodic lines (``LineProgress``) when stderr is not a terminal."""
    flag = os.environ.get("CORPUSMAP_PROGRESS")
    if flag is None and not sys.stderr.isatty():
        yield LineProgress()
        return
    prog = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not progress_enabled(),
        transient=False,
    )
    with prog:
        yield prog
