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

Left out: streaming (the dump is held in memory) and skipping bad records.
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


def load_generations(
    generations: str | os.PathLike | pa.Table,
    prompt_field: str = "prompt",
    output_field: str = "output",
    id_field: str | None = None,
) -> pa.Table:
    """Normalise a dump: ``gen_id``, ``prompt_id``, ``prompt``, ``output`` first."""
    name = "<table>" if isinstance(generations, pa.Table) else str(generations)
    table = generations if isinstance(generations, pa.Table) else read_table(generations)
    cols = table.column_names
    if output_field not in cols:
        raise InputError(
            name,
            f"no output column {output_field!r} (columns: {', '.join(cols)}); pass --output-field",
        )
    if prompt_field not in cols and prompt_field != "prompt":
        raise InputError(name, f"no prompt column {prompt_field!r} (columns: {', '.join(cols)})")
    n = table.num_rows
    out = pc.fill_null(table.column(output_field).cast(pa.string()), "")
    prompt = (
        pc.fill_null(table.column(prompt_field).cast(pa.string()), "")
        if prompt_field in cols
        else pa.array([""] * n)
    )
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


def fingerprint(table: pa.Table) -> str:
    """A content hash of the ids and texts (decides whether a rerun may resume)."""
    h = hashlib.sha256()
    for col in ("gen_id", "prompt", "output"):
        for chunk in table.column(col).chunks:
            for buf in chunk.buffers():
                if buf is not None:
                    h.update(buf)
    return h.hexdigest()
