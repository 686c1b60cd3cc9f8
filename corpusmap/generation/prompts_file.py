"""Read a prompt set: JSONL, Parquet, Arrow, a text file, or Python lists.

Accepted inputs (files are read through :mod:`corpusmap.sources`, so the formats
and the ``file:line:col`` errors are those of ``index build``):

* ``.jsonl`` / ``.ndjson`` / ``.json`` (one JSON object per line), also ``.gz`` or
  ``.zst`` compressed, with a prompt field (``prompt`` unless told otherwise) and
  an optional id field (``id``);
* ``.parquet`` or ``.arrow`` with those columns;
* ``.txt`` (also ``.gz``/``.zst``), one prompt per line (a prompt cannot contain a
  newline there);
* a list of strings, or a list of dicts shaped like JSONL records.

Ids: the id field's value as a string (when the id field is the default ``id``
and the input has none but has ``prompt_id``, as ``corpusmap prompts`` writes,
that column is the id), else the 0-based line number (JSONL and
text; blank lines are skipped but still counted) or row number (Parquet, lists).
Ids must be unique: they name the output rows (``gen_id = prompt_id:sample``).

Every other field is an *extra column*, carried unchanged into the output rows
(prompts made from a corpus bring ``doc_id``, ``offset`` and ``continuation``,
which the classifier needs). Parquet columns keep their Arrow types; JSONL
values get one Arrow type per field, inferred over the whole file.

Left out: JSON arrays and Hugging Face datasets (convert first), and streaming:
the whole set is held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from corpusmap.errors import InputError
from corpusmap.generation.schema import RESERVED
from corpusmap.sources.compression import inner_suffix
from corpusmap.sources.options import ReadOptions
from corpusmap.sources.records import iter_records, read_table, record_kind, records_table
from corpusmap.sources.text import read_text

PromptsInput = str | Path | list[str] | list[dict[str, Any]]


@dataclass(slots=True)
class PromptSet:
    """Prompts in input order.

    Attributes:
        ids: prompt ids (strings, unique).
        texts: prompt texts.
        extras: the other columns, one row per prompt (may have no columns).
        source: where they came from (a path, or ``"<list>"``).
    """

    ids: list[str]
    texts: list[str]
    extras: pa.Table
    source: str

    def __len__(self) -> int:
        return len(self.ids)


def read_prompts(
    prompts: PromptsInput, prompt_field: str = "prompt", id_field: str = "id"
) -> PromptSet:
    """Read prompts from a path or a list (see the module docstring for formats).

    Raises:
        InputError: naming the file and line/row of a malformed or incomplete record.
    """
    if isinstance(prompts, list):
        if all(isinstance(p, str) for p in prompts):
            records: list[tuple[int, dict[str, Any]]] = [
                (i, {prompt_field: p}) for i, p in enumerate(prompts)
            ]
        else:
            records = list(enumerate(prompts))  # type: ignore[arg-type]
        return _from_records("<list>", records, prompt_field, id_field, lines=False)
    path = Path(prompts)
    if not path.is_file():
        raise InputError(str(path), "prompt file not found")
    kind = record_kind(path)
    if kind in ("parquet", "arrow"):
        return _from_table(path, read_table(path), prompt_field, id_field)
    if kind == "jsonl":
        records = [(line - 1, rec) for line, rec in iter_records(path)]
        names = {k for _, rec in records if isinstance(rec, dict) for k in rec}
        id_field = _id_column(names, id_field)
        return _from_records(str(path), records, prompt_field, id_field, lines=True)
    if inner_suffix(path) == ".txt":
        opts = ReadOptions(lines=True)
        lines = [(doc.row - 1, {prompt_field: doc.text}) for doc in read_text(path, opts)]
        return _from_records(str(path), lines, prompt_field, id_field, lines=True)
    raise InputError(
        str(path),
        f"unsupported prompt file type {path.suffix!r}; "
        "use .jsonl, .parquet, .arrow or .txt (JSONL and text may be .gz/.zst)",
    )


def _from_records(
    source: str,
    records: list[tuple[int, dict[str, Any]]],
    prompt_field: str,
    id_field: str,
    lines: bool,
) -> PromptSet:
    """Split records into ids, texts and extra columns; ``lines``: report 1-based lines."""
    if not records:
        raise InputError(source, "no prompts found")
    where = "line" if lines else "item"
    ids, texts = [], []
    extra_rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for pos, rec in records:
        loc = pos + 1 if lines else None
        item = "" if lines else f"item {pos}: "
        if not isinstance(rec, dict):
            raise InputError(source, f"{item}expected a string or a dict", loc)
        if prompt_field not in rec:
            raise InputError(
                source,
                f"{item}missing {prompt_field!r} field (use prompt_field to name another)",
                loc,
            )
        text = rec[prompt_field]
        if not isinstance(text, str):
            raise InputError(
                source, f"{item}{prompt_field!r} must be a string, got {type(text).__name__}", loc
            )
        pid = _id_of(rec.get(id_field), pos, source, loc)
        if pid in seen:
            raise InputError(source, f"duplicate id {pid!r} (first at {where} {seen[pid]})", loc)
        seen[pid] = pos + 1 if lines else pos
        ids.append(pid)
        texts.append(text)
        extra_rows.append({k: v for k, v in rec.items() if k not in (prompt_field, id_field)})
    return PromptSet(ids, texts, _extras_table(source, extra_rows), source)


def _id_column(names: set[str] | list[str], id_field: str) -> str:
    """``prompt_id`` stands in for the default ``id`` (so `prompts` output feeds `generate`)."""
    if id_field == "id" and "id" not in names and "prompt_id" in names:
        return "prompt_id"
    return id_field


def _id_of(value: Any, pos: int, source: str, loc: int | None) -> str:
    if value is None:
        return str(pos)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(source, f"id must be a string or an integer, got {value!r}", loc)
    return str(value)


def _extras_table(source: str, rows: list[dict[str, Any]]) -> pa.Table:
    """One Arrow column per extra field, typed over all rows (missing values are null)."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    _check_reserved(source, list(names))
    return records_table(source, rows)


def _check_reserved(source: str, names: list[str]) -> None:
    clash = sorted(set(names) & RESERVED)
    if clash:
        raise InputError(
            source,
            f"prompt columns {clash} clash with generation output columns; rename them",
        )


def _from_table(path: Path, table: pa.Table, prompt_field: str, id_field: str) -> PromptSet:
    """A Parquet or Arrow prompt set: extra columns keep their Arrow types."""
    if prompt_field not in table.column_names:
        raise InputError(
            str(path),
            f"no {prompt_field!r} column (columns: {table.column_names}); "
            "use prompt_field to name another",
        )
    id_field = _id_column(table.column_names, id_field)
    texts = table.column(prompt_field).to_pylist()
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(str(path), f"row {i + 1}: {prompt_field!r} is not a string", i + 1)
    raw_ids = table.column(id_field).to_pylist() if id_field in table.column_names else []
    ids: list[str] = []
    seen: dict[str, int] = {}
    for i in range(len(texts)):
        pid = _id_of(raw_ids[i] if raw_ids else None, i, str(path), i + 1)
        if pid in seen:
            raise InputError(str(path), f"duplicate id {pid!r} (first at row {seen[pid]})", i + 1)
        seen[pid] = i + 1
        ids.append(pid)
    extras = table.drop([c for c in (prompt_field, id_field) if c in table.column_names])
    _check_reserved(str(path), extras.column_names)
    if not ids:
        raise InputError(str(path), "no prompts found")
    return PromptSet(ids, texts, extras.combine_chunks(), str(path))
