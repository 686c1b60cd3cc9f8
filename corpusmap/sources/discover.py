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
first appears. Symlinked folders inside a walked folder are not followed.

Not handled: globs (the shell expands those), remote URLs, archives (``.tar``, ``.zip``).
"""

from __future__ import annotations

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


def plan_units(sources: Sources) -> list[Unit]:
    """The units to read, in reading order, each file once.

    Raises:
        InputError: a source does not exist.
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
        if path.is_dir():
            found = [Unit(path, "hf")] if is_hf_dataset(path) else _walk(path)
        else:
            found = [Unit(path, kind_of(path))]
        for unit in found:
            key = os.path.abspath(unit.path)
            if key not in seen:
                seen.add(key)
                units.append(unit)
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


def source_fingerprint(sources: Sources) -> list[dict[str, Any]]:
    """Absolute path, size and modification time (ns) of each file :func:`list_files` names.

    Two fingerprints are equal when the same files, unchanged, would be read; a
    resumed build compares the stored one with a fresh one before continuing.
    """
    fingerprint = []
    for path in list_files(sources):
        st = path.stat()
        fingerprint.append(
            {"path": os.path.abspath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        )
    return fingerprint


def _walk(root: Path) -> list[Unit]:
    units: list[Unit] = []

    def fail(exc: OSError) -> None:
        raise InputError(str(exc.filename or root), f"cannot list folder ({exc.strerror})")

    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        folder = Path(dirpath)
        kept = []
        for name in dirnames:
            if name.startswith("."):
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
