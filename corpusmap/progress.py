"""Progress bars for long stages (rich), quiet when not attached to a terminal.

One helper so every stage shows the same columns: what it is doing, a bar, the
count, the rate and the time left. Set ``CORPUSMAP_PROGRESS=0`` to silence them,
``=1`` to force them on (e.g. in a notebook).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A rich Progress with description, bar, count, rate, elapsed and ETA columns."""
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
