"""Hugging Face ``save_to_disk`` folders, read without the ``datasets`` library.

``Dataset.save_to_disk(folder)`` writes ``state.json``, ``dataset_info.json`` and
one or more Arrow IPC stream shards; ``state.json["_data_files"]`` lists the
shards in order as ``{"filename": "data-00000-of-00001.arrow"}``.
``DatasetDict.save_to_disk(folder)`` writes ``dataset_dict.json`` (``{"splits":
[...]}``) and one such folder per split.

Documents from a dataset are named by the dataset (or split) folder and a 1-based
row counted through all its shards, so row ``r`` is ``dataset[r - 1]``.

Not handled: datasets saved with an indices mapping (``save_to_disk`` flattens
those itself), the ``datasets`` on-disk cache layout, and hub repositories of
Parquet files (point corpusmap at the ``.parquet`` files instead).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpusmap.errors import InputError
from corpusmap.sources.document import Document
from corpusmap.sources.options import ReadOptions


def is_hf_dataset(folder: Path) -> bool:
    """Whether ``folder`` is a ``save_to_disk`` Dataset or DatasetDict folder."""
    return (folder / "dataset_dict.json").is_file() or (
        (folder / "state.json").is_file() and (folder / "dataset_info.json").is_file()
    )


def is_dataset_dict(folder: Path) -> bool:
    """Whether ``folder`` is a ``DatasetDict.save_to_disk`` folder (one folder per split)."""
    return (folder / "dataset_dict.json").is_file()


def hf_splits(folder: Path, split: str | None = None) -> list[tuple[Path, list[Path]]]:
    """The datasets in ``folder`` to read, each as ``(dataset folder, shard files)``.

    Args:
        folder: a Dataset or DatasetDict folder.
        split: for a DatasetDict, the one split to read (None: all, in saved order).
            A single Dataset folder is read whole whatever ``split`` says.

    Raises:
        InputError: the metadata is unreadable, a split or shard is missing.
    """
    dict_file = folder / "dataset_dict.json"
    if not dict_file.is_file():
        return [(folder, _shards(folder))]
    splits = _load_json(dict_file).get("splits")
    if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits):
        raise InputError(str(dict_file), "expected {'splits': [names...]}; re-save the dataset")
    if split is not None:
        if split not in splits:
            raise InputError(
                str(folder),
                f"no split {split!r} (splits: {', '.join(splits)}); pass --split NAME",
            )
        splits = [split]
    return [(folder / name, _shards(folder / name)) for name in splits]


def read_hf(folder: Path, opts: ReadOptions) -> Iterator[Document]:
    """Yield the documents of a ``save_to_disk`` folder (the ``opts.split`` split, or all).

    Args:
        folder: the Dataset or DatasetDict folder.
        opts: field names, split, error policy and counters.
    """
    from corpusmap.sources.arrow import iter_arrow_documents  # pyarrow only when reading

    for dataset, shards in hf_splits(folder, opts.split):
        row = 1
        for shard in shards:
            # the shard reader returns its row count, so numbering continues across shards
            row += yield from iter_arrow_documents(shard, opts, str(dataset), row)


def _shards(dataset: Path) -> list[Path]:
    state_file = dataset / "state.json"
    if not state_file.is_file():
        raise InputError(
            str(dataset), "not a save_to_disk dataset folder (no state.json); re-save it"
        )
    files = _load_json(state_file).get("_data_files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("filename"), str) for f in files
    ):
        raise InputError(str(state_file), "expected '_data_files': [{'filename': ...}, ...]")
    shards = [dataset / f["filename"] for f in files]
    for shard in shards:
        if not shard.is_file():
            raise InputError(str(shard), "listed in state.json but does not exist")
    return shards


def _load_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(str(path), f"unreadable dataset metadata ({exc})") from exc
    if not isinstance(value, dict):
        raise InputError(str(path), "unreadable dataset metadata (expected a JSON object)")
    return value
