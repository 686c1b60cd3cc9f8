"""Load a generation dump for classification, from corpusmap or any other system.

Accepted: a corpusmap generation store (a folder of Parquet parts, possibly with
``run=N`` partitions), a folder of Parquet files, a single Parquet or Arrow file,
or JSON Lines (``.jsonl``/``.json``/``.ndjson``, plain, ``.gz`` or ``.zst``). Files
are read through :mod:`corpusmap.sources.records`, so the formats and the
``file:line:col`` errors are those of ``index build``. Any dump works as long as
it has an output text column (``output_field``) and, optionally, a prompt column
(``prompt_field``). The result has normalised columns ``gen_id``, ``prompt_id``,
``prompt``, ``output`` plus every other input column, untouched (``continuation``,
``doc_id``, ``model``...).

A null output or prompt is refused, or with ``on_error="skip"`` left out and
counted. Left out: streaming (the dump is held in memory).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from corpusmap.errors import InputError
from corpusmap.sources.records import read_table as read_records_table
from corpusmap.sources.records import record_kind


def _read_store(path: Path) -> pa.Table:
    """A corpusmap generation store; with several runs, gen_ids get an ``rN:`` prefix."""
    from corpusmap.generation.store import GenerationStore

    store = GenerationStore(path)
    n_runs = len(store.runs)
    tables = []
    for run in range(1, n_runs + 1):
        if not store.part_files(run):
            continue
        table = store.to_arrow(run)
        if n_runs > 1:
            ids = pc.binary_join_element_wise(f"r{run}", table.column("gen_id"), ":")
            table = table.set_column(table.column_names.index("gen_id"), "gen_id", ids)
        tables.append(table)
    if not tables:
        raise InputError(str(path), "the generation store holds no finished parts yet")
    return pa.concat_tables(tables, promote_options="default")


def read_table(path: str | os.PathLike) -> pa.Table:
    """A generation dump as one Arrow table."""
    p = Path(path)
    if not p.exists():
        raise InputError(str(p), "does not exist")
    if p.is_dir():
        from corpusmap.generation.store import manifest_path

        if manifest_path(p) is not None:
            return _read_store(p)
        files = sorted(str(f) for f in p.rglob("*.parquet") if not f.name.startswith("."))
        if not files:
            raise InputError(str(p), "folder holds no .parquet files")
        return ds.dataset(files, format="parquet").to_table()
    kind = record_kind(p)
    if kind is None:
        raise InputError(
            str(p),
            "unknown format: give a generation store, .parquet, .arrow or .jsonl (maybe .gz/.zst)",
        )
    table = read_records_table(p)
    if kind == "jsonl" and table.num_rows == 0:
        raise InputError(str(p), "no records")
    return table


def _text_column(table: pa.Table, name: str, field: str, flag: str) -> pa.ChunkedArray:
    """A column that must hold text; another type is refused (no silent ``str(1)``)."""
    col = table.column(field)
    typ = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ) or typ == pa.null()):
        raise InputError(
            name, f"column {field!r} holds {col.type}, not text; pass {flag} with the text column"
        )
    return col.cast(pa.string())


def load_generations(
    generations: str | os.PathLike | pa.Table,
    prompt_field: str | None = "prompt",
    output_field: str = "output",
    id_field: str | None = None,
    on_error: str = "raise",
    skipped: dict[str, int] | None = None,
) -> pa.Table:
    """Normalise a dump: ``gen_id``, ``prompt_id``, ``prompt``, ``output`` first.

    A missing output or prompt (null, or no such field in a JSONL record) is never
    read as ``""``, which would count as a generation with nothing in the corpus:
    ``on_error="raise"`` refuses the dump naming the first such row, ``"skip"``
    leaves those rows out and counts them in ``skipped`` (``{"null_output": n,
    "null_prompt": m}``). ``prompt_field=""`` (or None) says the generations have
    no prompts (unconditional sampling); a missing prompt column is otherwise refused.
    """
    name = "<table>" if isinstance(generations, pa.Table) else str(generations)
    table = generations if isinstance(generations, pa.Table) else read_table(generations)
    cols = table.column_names
    if output_field not in cols:
        raise InputError(
            name,
            f"no output column {output_field!r} (columns: {', '.join(cols)}); pass --output-field",
        )
    if prompt_field and prompt_field not in cols:
        raise InputError(
            name,
            f"no prompt column {prompt_field!r} (columns: {', '.join(cols)}); pass "
            "--prompt-field NAME, or --prompt-field '' for generations without prompts",
        )
    out = _text_column(table, name, output_field, "--output-field")
    prompt = _text_column(table, name, prompt_field, "--prompt-field") if prompt_field else None
    table, out, prompt = _drop_missing(table, name, out, prompt, on_error, skipped)
    n = table.num_rows
    if n == 0:
        raise InputError(name, "no generation has an output to classify")
    prompt = prompt if prompt is not None else pa.chunked_array([pa.array([""] * n, pa.string())])
    if id_field:
        if id_field not in cols:
            raise InputError(name, f"no id column {id_field!r}")
        gen_id = table.column(id_field).cast(pa.string())
    elif "gen_id" in cols:
        gen_id = table.column("gen_id").cast(pa.string())
    else:
        gen_id = pa.array([str(i) for i in range(n)])
    if len(set(gen_id.to_pylist())) != n:
        raise InputError(
            name, "generation ids are not unique; pass --id-field with a unique column"
        )
    prompt_id = table.column("prompt_id").cast(pa.string()) if "prompt_id" in cols else gen_id
    rest = [
        c for c in cols if c not in {output_field, prompt_field, "gen_id", "prompt_id", id_field}
    ]
    arrays = [gen_id, prompt_id, prompt, out] + [table.column(c) for c in rest]
    return pa.table(arrays, names=["gen_id", "prompt_id", "prompt", "output", *rest])


def _drop_missing(
    table: pa.Table,
    name: str,
    out: pa.ChunkedArray,
    prompt: pa.ChunkedArray | None,
    on_error: str,
    skipped: dict[str, int] | None,
) -> tuple[pa.Table, pa.ChunkedArray, pa.ChunkedArray | None]:
    """Refuse (``raise``) or drop and count (``skip``) rows with a null output or prompt."""
    bad_out = pc.is_null(out)
    bad = pc.or_(bad_out, pc.is_null(prompt)) if prompt is not None else bad_out
    n_bad = pc.sum(bad).as_py() or 0
    if not n_bad:
        return table, out, prompt
    first = pc.index(bad, True).as_py()
    what = "output" if bad_out[first].as_py() else "prompt"
    if on_error != "skip":
        raise InputError(
            name,
            f"row {first + 1} has no {what} (null or missing), {n_bad} row(s) in all; "
            "fix the dump or pass --on-error skip to leave them out (they are counted)",
        )
    if skipped is not None:
        skipped["null_output"] = pc.sum(bad_out).as_py() or 0
        skipped["null_prompt"] = n_bad - skipped["null_output"]
    keep = pc.invert(bad)
    return (
        table.filter(keep),
        out.filter(keep),
        prompt.filter(keep) if prompt is not None else None,
    )


def fingerprint(table: pa.Table) -> str:
    """A content hash of the ids and texts (decides whether a rerun may resume)."""
    h = hashlib.sha256()
    for col in ("gen_id", "prompt", "output"):
        for chunk in table.column(col).chunks:
            for buf in chunk.buffers():
                if buf is not None:
                    h.update(buf)
    return h.hexdigest()
