"""What a results folder holds, as its manifest says: the parts to read, and whether it is done.

``classify`` (``corpusmap.match.run``) writes ``RESULTS/manifest.json`` and lists
each shard's part name under ``"finished"`` once its Parquet files are in place;
it adds ``"patterns"`` when the pattern stage has written
``patterns/part-00000.parquet`` (and ``"patterns"."behaviors"`` for the behaviours
table), and ``"completed_at"`` last. So the manifest, not a directory listing,
says which files are results: a Parquet file dropped into ``RESULTS/generations/``
by hand, or a half-written one from a killed run, is never read.

:func:`results_status` answers "is this folder complete?" for ``sql`` (a warning
line, ``--require-complete``), the report (a banner) and the explorer.

What it leaves out: checksums of the parts (a part renamed into place by classify
is trusted; the index has its own checks).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from corpusmap.errors import CorpusmapError

RESULTS_FORMAT = "corpusmap-results"  # the same string corpusmap.match.run writes
SHARD_TABLES = ("generations", "spans", "baseline")  # one part per finished shard
PATTERN_PART = "part-00000.parquet"  # the pattern stage's single part


class IncompleteResultsError(CorpusmapError):
    """A results folder is incomplete and the caller asked for complete results."""


class IncompleteResultsWarning(UserWarning):
    """A results folder opened for querying is incomplete (an interrupted classify)."""


def read_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a results folder; a clear error if it is not one."""
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise CorpusmapError(
            f"{folder}: not a results folder (no manifest.json); run `corpusmap classify`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorpusmapError(
            f"{path}: unreadable manifest ({exc}); rerun `corpusmap classify`"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != RESULTS_FORMAT:
        raise CorpusmapError(
            f"{path}: not a corpusmap results manifest (format is not {RESULTS_FORMAT!r}); "
            "name a folder written by `corpusmap classify`"
        )
    return manifest


def result_parts(folder: str | os.PathLike, manifest: dict[str, Any]) -> dict[str, list[Path]]:
    """The Parquet parts of each table that the manifest lists and that exist, in order.

    A shard with no rows for a table (no spans, no baseline) writes no part there,
    so a listed part may be absent; files not listed are ignored.
    """
    folder = Path(folder)
    finished = [str(p) for p in manifest.get("finished", []) if isinstance(p, str)]
    parts: dict[str, list[Path]] = {}
    for table in SHARD_TABLES:
        parts[table] = [
            folder / table / p for p in finished if "/" not in p and (folder / table / p).is_file()
        ]
    summary = manifest.get("patterns")
    has_patterns = isinstance(summary, dict)
    has_behaviors = has_patterns and bool(summary.get("behaviors"))  # type: ignore[union-attr]
    for table, listed in (("patterns", has_patterns), ("behaviors", has_behaviors)):
        part = folder / table / PATTERN_PART
        parts[table] = [part] if listed and part.is_file() else []
    return parts


def index_docs(manifest: dict[str, Any]) -> list[Path]:
    """The ``docs.parquet`` of each shard of the results' corpus index (none if it is gone)."""
    index = Path(manifest.get("plan", {}).get("index", "") or "")
    try:
        shards = json.loads((index / "manifest.json").read_text(encoding="utf-8"))["shards"]
        names = [str(r["name"]) for r in shards]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    files = [index / n / "docs.parquet" for n in names if "/" not in n]
    return files if all(f.is_file() for f in files) else []


def results_status(folder: str | os.PathLike) -> dict[str, Any]:
    """Whether a results folder is complete, and how far an interrupted run got.

    Returns:
        ``folder``; ``complete`` (every planned shard finished and the run reached its
        end); ``generations`` (planned) and ``classified`` (rows in finished shards);
        ``shards`` and ``finished_shards``; ``patterns`` (the pattern stage ran);
        ``message``: one line for a warning or banner, None when complete.
    """
    manifest = read_manifest(folder)
    plan = manifest.get("plan", {})
    total = int(plan.get("n_generations", 0))
    shard_rows = max(int(plan.get("shard_rows", 1) or 1), 1)
    planned = [f"part-{k:05d}.parquet" for k in range(-(-total // shard_rows))]
    finished = set(manifest.get("finished", []))
    classified = sum(
        min(shard_rows, total - k * shard_rows)
        for k, name in enumerate(planned)
        if name in finished
    )
    done = sum(name in finished for name in planned)
    complete = done == len(planned) and bool(manifest.get("completed_at"))
    message = None
    if not complete:
        what = (
            f"{classified:,} of {total:,} generations classified"
            if done < len(planned)
            else f"all {total:,} generations classified but the run did not finish (patterns)"
        )
        message = f"results {folder} are incomplete: {what}; rerun classify to finish"
    return {
        "folder": str(folder),
        "complete": complete,
        "generations": total,
        "classified": classified,
        "shards": len(planned),
        "finished_shards": done,
        "patterns": isinstance(manifest.get("patterns"), dict),
        "message": message,
    }
