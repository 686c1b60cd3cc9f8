"""From the paths a user names to the files read and the reader for each.

Dispatch rules, applied to each source in the order given:

* a missing path is an error;
* a Hugging Face ``save_to_disk`` folder (``state.json`` + ``dataset_info.json``,
  or ``dataset_dict.json``) is one unit read by :mod:`corpusmap.sources.hf_dataset`;
* any other folder is walked recursively: hidden files and folders (names
  starting with ``.``) are left out, ``save_to_disk`` folders inside it are units
  of their own, and everything else is sorted by path components (``a/b.txt``
  before ``a.txt/``, the same on every machine);
* a file goes by extension (case-insensitive): ``.jsonl``/``.json``/``.ndjson``,
  optionally ``.gz``/``.zst``, to JSON Lines; ``.parquet``; ``.arrow``; ``.npy``,
  ``.u16``, ``.u32``, ``.bin`` to pre-tokenized; anything else to plain text
  (also when ``.gz``/``.zst`` compressed).

A file named twice (directly and through its folder, say) is read once, where it
first appears. Symlinked folders inside a walked folder are not followed. Folders
that corpusmap wrote (an index, a results folder or a generation store: anything
holding a corpusmap manifest) are never read as input: named directly they are
refused, met while walking they are left out. Both are reported through ``notes``.

Not handled: globs (the shell expands those), remote URLs, archives (``.tar``, ``.zip``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from corpusmap.errors import CorpusmapError, InputError
from corpusmap.sources.compression import compression_of, inner_suffix
from corpusmap.sources.hf_dataset import hf_splits, is_hf_dataset
from corpusmap.sources.tokens import RAW_SUFFIXES

Kind = Literal["jsonl", "parquet", "arrow", "hf", "tokens", "text"]
PathLike = str | os.PathLike[str]
Sources = PathLike | Sequence[PathLike]

_JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
_MANIFESTS = ("manifest.json", "_manifest.json")  # index/results; generation store (new name)


@dataclass(frozen=True, slots=True)
class Unit:
    """One thing to read: a file, or a whole ``save_to_disk`` folder (``kind="hf"``)."""

    path: Path
    kind: Kind


def kind_of(path: Path) -> Kind:
    """The reader for a file, from its extension (see the module docstring)."""
    if inner_suffix(path) in _JSONL_SUFFIXES:
        return "jsonl"
    if compression_of(path) is not None:
        return "text"
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix == ".arrow":
        return "arrow"
    if suffix == ".npy" or suffix in RAW_SUFFIXES:
        return "tokens"
    return "text"


def corpusmap_output(folder: Path) -> str | None:
    """The format name when ``folder`` is one corpusmap wrote (it holds our manifest), else None.

    Checked by the manifest's ``format`` field (``corpusmap-index``,
    ``corpusmap-results``, ``corpusmap-generations``...), so a user's own
    ``manifest.json`` in a corpus folder is still read as data.
    """
    for name in _MANIFESTS:
        path = folder / name
        if not path.is_file():
            continue
        try:
            fmt = json.loads(path.read_text(encoding="utf-8")).get("format")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(fmt, str) and fmt.startswith("corpusmap-"):
            return fmt
    return None


def plan_units(sources: Sources, notes: list[str] | None = None) -> list[Unit]:
    """The units to read, in reading order, each file once.

    Args:
        sources: files and folders, as the user named them.
        notes: if given, one line is appended for each file named more than once
            and each corpusmap output folder left out of a walk, for the caller to show.

    Raises:
        InputError: a source does not exist, or is a folder corpusmap wrote.
        CorpusmapError: no source was given.
    """
    if isinstance(sources, str | os.PathLike):
        sources = [sources]
    if not sources:
        raise CorpusmapError("no input given; name at least one file or folder")
    units: list[Unit] = []
    seen: set[str] = set()
    for source in sources:
        path = Path(source)
        if not path.exists():
            raise InputError(str(path), "does not exist; check the path")
        if path.is_dir() and (fmt := corpusmap_output(path)) is not None:
            raise InputError(
                str(path),
                f"is a folder corpusmap wrote ({fmt}), not corpus input; name the corpus files",
            )
        if path.is_dir():
            found = [Unit(path, "hf")] if is_hf_dataset(path) else _walk(path, notes)
        else:
            found = [Unit(path, kind_of(path))]
        repeated = 0
        for unit in found:
            key = os.path.abspath(unit.path)
            if key not in seen:
                seen.add(key)
                units.append(unit)
            else:
                repeated += 1
        if repeated and notes is not None:
            what = "it was" if path.is_file() else f"{repeated} of its files were"
            notes.append(f"{path}: {what} already named by an earlier source; read once")
    return units


def list_files(sources: Sources) -> list[Path]:
    """The files :func:`~corpusmap.sources.read_documents` reads, in reading order.

    Folders are expanded (sorted, see the module docstring); a ``save_to_disk``
    folder contributes its Arrow shards, all splits, in saved order.

    Raises:
        InputError: a source does not exist, or dataset metadata is unreadable.
    """
    files: list[Path] = []
    for unit in plan_units(sources):
        if unit.kind == "hf":
            files.extend(shard for _, shards in hf_splits(unit.path) for shard in shards)
        else:
            files.append(unit.path)
    return files


def content_hash(path: Path, chunk: int = 1 << 24) -> str:
    """xxh3-128 of a file's whole content (hex).

    Whole, not sampled: an edit that keeps the size and has its modification time
    restored (``touch -r``, ``rsync -t``, a checkout) must still be seen. xxh3 runs at
    memory speed (18 GB/s measured on one core), so the cost is one read of the corpus,
    small beside tokenizing it.
    """
    import xxhash

    h = xxhash.xxh3_128()
    try:
        with open(path, "rb") as f:
            while block := f.read(chunk):
                h.update(block)
    except OSError as exc:
        raise InputError(str(path), f"cannot read ({exc.strerror})") from exc
    return h.hexdigest()


def source_fingerprint(sources: Sources) -> list[dict[str, Any]]:
    """Absolute path, size, modification time (ns) and content hash of each file read.

    Two fingerprints are equal when the same files, unchanged, would be read; a
    resumed build compares the stored one with a fresh one before reusing shards.
    The content hash (:func:`content_hash`) catches an edit whose size and mtime
    were kept.
    """
    fingerprint = []
    for path in list_files(sources):
        st = path.stat()
        fingerprint.append(
            {
                "path": os.path.abspath(path),
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "xxh3": content_hash(path),
            }
        )
    return fingerprint


def _walk(root: Path, notes: list[str] | None = None) -> list[Unit]:
    units: list[Unit] = []

    def fail(exc: OSError) -> None:
        raise InputError(str(exc.filename or root), f"cannot list folder ({exc.strerror})")

    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        folder = Path(dirpath)
        kept = []
        for name in dirnames:
            if name.startswith("."):
                continue  # also our own `.NAME.building` folders
            fmt = corpusmap_output(folder / name)
            if fmt is not None:
                if notes is not None:
                    notes.append(f"{folder / name}: left out, a folder corpusmap wrote ({fmt})")
                continue
            if is_hf_dataset(folder / name):
                units.append(Unit(folder / name, "hf"))  # a unit; do not walk into it
            else:
                kept.append(name)
        dirnames[:] = kept
        units.extend(
            Unit(folder / name, kind_of(folder / name))
            for name in filenames
            if not name.startswith(".")
        )
    units.sort(key=lambda unit: unit.path.relative_to(root).parts)
    return units


def check_output_folder(out: Path, fmt: str, flag: str = "--out") -> None:
    """Refuse to write ``fmt`` output into a folder that holds anything but our own ``fmt``.

    A new or empty folder, or one holding a corpusmap output of the same format,
    may be written (resumed, or replaced with ``--force``); a folder with other
    files, or with another corpusmap output, is never written into, moved or
    removed: it may be the user's data (even the corpus itself).
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise CorpusmapError(f"{out}: is a file, where a folder is needed; choose another {flag}")
    found = corpusmap_output(out)
    if found == fmt:
        return
    if found is not None:
        raise CorpusmapError(
            f"{out}: holds a corpusmap output of another kind ({found}); choose another {flag}"
        )
    if any(not p.name.startswith(".") for p in out.iterdir()):
        raise CorpusmapError(
            f"{out}: exists and holds files corpusmap did not write; choose a new or empty {flag} "
            "(it is never overwritten or removed)"
        )
