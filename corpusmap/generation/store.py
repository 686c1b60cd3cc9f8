"""The generation store: a folder of Parquet parts plus a manifest.

Layout (``G.parquet`` is a folder)::

    G.parquet/_manifest.json         format + version, and per run: params, parts, rows
    G.parquet/part-00000.parquet     run 1
    G.parquet/part-00001.parquet
    G.parquet/run=2/part-00000.parquet   run 2 (only with new_run=True), and so on
    G.parquet/.part-00002.parquet.*.tmp  a part being written (never matches *.parquet)
    G.parquet/.lock                      held by the writing process

Reading: every finished part matches ``G.parquet/**/*.parquet`` (all runs) or
``G.parquet/*.parquet`` (run 1 only): DuckDB ``read_parquet('G.parquet/**/*.parquet')``,
polars ``pl.scan_parquet('G.parquet/**/*.parquet')``, or
``GenerationStore(path).to_arrow()``. ``params_id`` tells runs apart. The
manifest's name starts with ``_`` (the Hive/Spark convention for metadata), so
``pyarrow.parquet.read_table("G.parquet")`` and other dataset readers skip it
(polars reads a folder only by glob, ``G.parquet/*.parquet``: it refuses a
folder that holds any other file, the ``.lock`` included).
Stores written before this convention have ``manifest.json``; they are read as
they are, and rewritten under the new name on their next write.

Crash safety: a part is written with :func:`corpusmap.atomic.write_parquet` (a
dot-named temp file, fsynced, renamed into place, folder fsynced), then the
manifest is rewritten the same way. A reader sees whole
parts only; a kill loses at most the part in flight. The finished parts on disk
are the truth: a resumed run rebuilds its part list from them (a part renamed
just before a crash but missing from the manifest is kept), deletes leftover
temp files, and skips every ``gen_id`` they hold.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from corpusmap.atomic import remove_temps, write_json, write_parquet
from corpusmap.errors import CorpusmapError
from corpusmap.generation.params import GenParams, describe_difference

FORMAT = "corpusmap-generations"
VERSION = 1
MANIFEST = "_manifest.json"
OLD_MANIFEST = "manifest.json"  # before the Hive convention; still read


def manifest_path(folder: str | os.PathLike[str]) -> Path | None:
    """The store manifest in ``folder`` (new name first, then the old one), or None."""
    for name in (MANIFEST, OLD_MANIFEST):
        path = Path(folder) / name
        if path.is_file():
            return path
    return None


PART_RE = re.compile(r"^part-(\d{5,})\.parquet$")


def _part_number(name: str) -> int:
    match = PART_RE.match(name)
    return int(match.group(1)) if match else -1


class GenerationStore:
    """Read access to a store folder (see the module docstring).

    Attributes:
        path: the store folder.
        manifest: the parsed ``manifest.json`` (``{"runs": []}`` for a new store).
        summary: what the last ``generate`` call did, when this object came from it.
    """

    def __init__(self, path: str | os.PathLike[str], create: bool = False) -> None:
        self.path = Path(path)
        self.summary: dict[str, Any] = {}
        mpath = manifest_path(self.path)
        if mpath is not None:
            try:
                self.manifest = json.loads(mpath.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise CorpusmapError(f"{mpath}: corrupt manifest ({exc})") from exc
            if self.manifest.get("format") != FORMAT or self.manifest.get("version") != VERSION:
                raise CorpusmapError(
                    f"{self.path} is not a {FORMAT} v{VERSION} store "
                    f"(found {self.manifest.get('format')!r} v{self.manifest.get('version')!r})"
                )
        elif create and (not self.path.exists() or self._is_empty_dir()):
            self.manifest = {"format": FORMAT, "version": VERSION, "runs": []}
        elif self.path.is_file():
            raise CorpusmapError(f"{self.path} is a file; a generation store is a folder")
        else:
            raise CorpusmapError(
                f"{self.path} is not a generation store (no {MANIFEST}); "
                "pass a new folder to write one"
            )

    def _is_empty_dir(self) -> bool:
        """True for a folder holding nothing but dot-files (a lock, a temp file)."""
        return self.path.is_dir() and all(p.name.startswith(".") for p in self.path.iterdir())

    @property
    def glob(self) -> str:
        """The glob matching every finished part of every run."""
        return str(self.path / "**" / "*.parquet")

    @property
    def runs(self) -> list[dict[str, Any]]:
        return list(self.manifest["runs"])

    def run_dir(self, run: int) -> Path:
        """Folder of run ``run`` (1-based): the store itself for run 1, else ``run=N``."""
        return self.path if run == 1 else self.path / f"run={run}"

    def run_params(self, run: int) -> GenParams:
        return GenParams.from_dict(self.manifest["runs"][run - 1]["params"])

    def part_files(self, run: int | None = None) -> list[Path]:
        """Finished parts on disk, in part order, of one run or of all runs."""
        runs = [run] if run is not None else range(1, len(self.manifest["runs"]) + 1)
        files: list[Path] = []
        for r in runs:
            folder = self.run_dir(r)
            if folder.is_dir():
                files += sorted(p for p in folder.iterdir() if PART_RE.match(p.name))
        return files

    def to_arrow(self, run: int | None = None) -> pa.Table:
        """All rows of one run, or of every run, as one Arrow table."""
        files = self.part_files(run)
        if not files:
            raise CorpusmapError(f"{self.path} holds no finished parts yet")
        return ds.dataset([str(f) for f in files], format="parquet").to_table()

    def save_manifest(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.path / MANIFEST, self.manifest, sort_keys=False)
        old = self.path / OLD_MANIFEST
        if old.is_file():  # a store from before the rename: keep one manifest
            old.unlink()


class RunWriter:
    """Appends parts to one run of a store, holding the store's lock."""

    def __init__(self, store: GenerationStore, run: int, session: dict[str, Any]) -> None:
        self.store = store
        self.run = run
        self.folder = store.run_dir(run)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = open(store.path / ".lock", "w")  # noqa: SIM115 (held until close)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock.close()
            raise CorpusmapError(
                f"another process is writing to {store.path}; wait for it or use another --out"
            ) from exc
        remove_temps(self.folder, "part-*.parquet")
        self.done: set[str] = set()
        parts: list[dict[str, Any]] = []
        files = store.part_files(run)
        for f in files:
            try:
                ids = pq.read_table(f, columns=["gen_id"]).column("gen_id").to_pylist()
            except (OSError, pa.ArrowInvalid) as exc:
                raise CorpusmapError(f"{f}: unreadable part ({exc}); delete it to redo it") from exc
            self.done.update(ids)
            parts.append({"file": f.name, "rows": len(ids)})
        entry = store.manifest["runs"][run - 1]
        entry["parts"] = parts
        entry["rows"] = sum(p["rows"] for p in parts)
        entry.setdefault("sessions", []).append(session)
        store.save_manifest()
        self.next_part = 1 + max((_part_number(f.name) for f in files), default=-1)

    def check_schema(self, schema: pa.Schema) -> None:
        """Refuse parts whose columns differ from the store's (readers need one schema)."""
        existing = self.store.part_files()
        if existing:
            old = pq.read_schema(existing[0])
            if not old.remove_metadata().equals(schema.remove_metadata()):
                raise CorpusmapError(
                    f"{self.store.path} holds rows with other columns ({old.names}) than these "
                    f"prompts give ({schema.names}); write to another --out"
                )

    def write_part(self, table: pa.Table) -> Path:
        """Write one finished part atomically and record it in the manifest."""
        name = f"part-{self.next_part:05d}.parquet"
        write_parquet(self.folder / name, table, compression="zstd")
        self.next_part += 1
        self.record_part(name, table.column("gen_id").to_pylist())
        return self.folder / name

    def record_part(self, name: str, gen_ids: list[str]) -> None:
        """Add a part already written in place (by this process or a Ray task) to the manifest."""
        self.done.update(gen_ids)
        entry = self.store.manifest["runs"][self.run - 1]
        entry["parts"].append({"file": name, "rows": len(gen_ids)})
        entry["rows"] += len(gen_ids)
        self.store.save_manifest()

    def close(self) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()


def open_run(
    path: str | os.PathLike[str],
    params: GenParams,
    new_run: bool,
    session: dict[str, Any],
    conflict: Callable[[GenerationStore, int], str | None] | None = None,
) -> RunWriter:
    """The run of ``path`` with these params (resumed), or a new one.

    A store whose runs all have other params is refused unless ``new_run`` is
    set, in which case the params get a new run folder ``run=N``. ``conflict``
    says why a run with these params cannot take this call's rows (other prompts,
    see ``prompt_check``); such a run is skipped, and refused unless ``new_run``.
    """
    store = GenerationStore(path, create=True)
    pid = params.fingerprint()
    for i, run in enumerate(store.runs, start=1):
        if run["params_id"] == pid:
            why = conflict(store, i) if conflict is not None else None
            if why is None:
                return RunWriter(store, i, session)
            if not new_run:
                raise CorpusmapError(
                    f"{store.path} run {i} was made from other prompts ({why}); pass --new-run "
                    "(new_run=True) to add a run for these prompts, or write to another --out"
                )
    if store.runs and not new_run:
        last = store.runs[-1]["params"]
        raise CorpusmapError(
            f"{store.path} holds generations made with other parameters "
            f"({describe_difference(last, params.to_dict())}); pass --new-run (new_run=True) "
            "to add a run with these parameters, or write to another --out"
        )
    store.manifest["runs"].append(
        {
            "run": len(store.runs) + 1,
            "dir": "." if not store.runs else f"run={len(store.runs) + 1}",
            "params_id": pid,
            "params": params.to_dict(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "parts": [],
            "rows": 0,
        }
    )
    return RunWriter(store, len(store.runs), session)
