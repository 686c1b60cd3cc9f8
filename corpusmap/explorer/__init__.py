"""``serve``: the explorer, a local web app to trace generations back to the corpus.

Opened in a browser at ``http://127.0.0.1:8765`` it shows, for one or more
results folders of ``corpusmap classify``: an overview (the report's numbers,
folders side by side), a paged, sortable, filterable table of generations, each
generation with its corpus spans highlighted (click one: the documents holding
it, in context), the four pattern classes with examples, "ask the corpus"
(count, locate and next-token distribution, corpus next to generations) and a
read-only SQL console. Every page has a JSON twin under ``/api`` (``app.py``).

Offline: templates, CSS and JS ship in the package; no CDN. It binds to
127.0.0.1 unless told otherwise, and reads only finished parts, so it can be
opened on a folder that ``classify`` is still writing.

What it leaves out: authentication (it is a local, single-user tool: do not
expose it on a shared network) and any writing to the results folders.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from corpusmap.errors import require

__all__ = ["create_app", "serve"]

Results = str | os.PathLike | Sequence[str | os.PathLike]


def create_app(results: Results, index: str | os.PathLike | None = None, **options: Any) -> Any:
    """The explorer's Starlette app (for tests, or to mount in another ASGI server).

    Args:
        results: a results folder, or a list of them to compare side by side.
        index: the corpus index (default: the one each folder's manifest names).
        options: ``sql_timeout`` (seconds per console query).
    """
    for module in ("starlette", "jinja2"):
        require(module, "explorer")
    from corpusmap.explorer.app import create_app as make

    return make(results, index, **options)


def serve(
    results: Results,
    index: str | os.PathLike | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    log_level: str = "warning",
    **options: Any,
) -> None:
    """Serve the explorer until interrupted (Ctrl-C).

    Args:
        results: a results folder, or a list of them to compare side by side.
        index: the corpus index (default: the one each folder's manifest names).
        host: the address to bind; 127.0.0.1 keeps it to this machine.
        port: the TCP port.
        log_level: uvicorn's log level.
        options: passed to :func:`create_app`.
    """
    require("uvicorn", "explorer")
    import uvicorn

    app = create_app(results, index, **options)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
