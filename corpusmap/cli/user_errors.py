"""Which uncaught exceptions are the user's input, and the one line that says so.

Library code raises :class:`~corpusmap.errors.CorpusmapError` for everything it
knows to be bad input. This module is the net under it, at the CLI: an
exception that escaped as a plain ``OSError`` (permission denied, not a folder,
read-only file system, disk full...), ``UnicodeDecodeError``, a JSON decode error
or a pyarrow error becomes one ``error:`` line *only if it can be tied to a path
the user typed*:

* an ``OSError`` whose ``filename`` is that path, inside it, one of its parent
  folders, or our hidden sibling of it (``.NAME.building``, ``.NAME.*.tmp``);
* a decode or pyarrow error raised while a frame of corpusmap code held that
  path (or a file inside it) in a local variable: the code was reading it.

Anything else stays a traceback: it is a bug, and hiding it would hide the bug.
``CORPUSMAP_DEBUG=1`` shows the traceback of every error, these included.

Left out: exceptions from threads and worker processes arrive re-raised in the
main process and are judged the same way; paths given only inside files (a
behaviour file's module, say) are not user paths here.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from types import TracebackType


def one_line(message: str) -> str:
    """The message with control and bidi characters escaped (``\\n``, ``\\x1b``, ``\\u202e``).

    A file name or a value from the input can hold a newline, a terminal escape or
    a right-to-left override; printed raw, it would break the one-line error or
    repaint the user's terminal.
    """
    import unicodedata

    out = []
    for ch in message:
        if ch != "\t" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def debug() -> bool:
    """``CORPUSMAP_DEBUG=1``: show tracebacks instead of one-line errors."""
    return os.environ.get("CORPUSMAP_DEBUG", "") not in ("", "0")


def user_paths(argv: list[str]) -> list[Path]:
    """Every argument (and ``--opt=value`` value) that names something on disk or could."""
    out = []
    for arg in argv:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        if not value or value.startswith("-") or "\n" in value or len(value) > 4096:
            continue
        try:
            out.append(Path(os.path.abspath(value)))
        except (ValueError, OSError):
            continue
    return out


def _related(path: Path, user: Path) -> bool:
    if path == user or user in path.parents or path in user.parents:
        return True
    return path.parent == user.parent and path.name.startswith(f".{user.name}.")


def _tied(value: object, users: list[Path]) -> Path | None:
    if not isinstance(value, str | os.PathLike) or isinstance(value, bytes):
        return None
    try:
        p = Path(os.path.abspath(os.fspath(value)))
    except (TypeError, ValueError):
        return None
    for u in users:
        if p == u or u in p.parents:
            return p
    return None


def _path_in_frames(tb: TracebackType | None, users: list[Path]) -> Path | None:
    """The user path held by the innermost corpusmap frame that held one."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__name__", "").startswith("corpusmap"):
            for value in frame.f_locals.values():
                if (p := _tied(value, users)) is not None:
                    found = p
        tb = tb.tb_next
    return found


def _is_decode_error(exc: BaseException) -> bool:
    if isinstance(exc, UnicodeDecodeError | json.JSONDecodeError):
        return True
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a core dependency
        return False
    return isinstance(exc, pa.ArrowException)


def user_input_message(exc: BaseException, argv: list[str]) -> str | None:
    """The one-line message for ``exc`` if it comes from the user's input, else None."""
    users = user_paths(argv)
    if isinstance(exc, OSError) and not _is_decode_error(exc):
        for name in (exc.filename, exc.filename2):
            if name is None or isinstance(name, int):
                continue
            path = Path(os.path.abspath(os.fsdecode(name)))
            if any(_related(path, u) for u in users):
                reason = exc.strerror or type(exc).__name__
                if exc.errno in (errno.EEXIST, errno.ENOTDIR) and path.is_file():
                    reason = "is a file, where a folder is needed"
                return f"{os.fsdecode(name)}: {reason}; check the path and its permissions"
        return None
    if _is_decode_error(exc):
        held = _path_in_frames(exc.__traceback__, users)
        if held is not None:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return (
                f"{os.path.relpath(held)}: cannot be read ({type(exc).__name__}: {first[:200]}); "
                "check that it is the right file, whole and of a supported format"
            )
    return None
