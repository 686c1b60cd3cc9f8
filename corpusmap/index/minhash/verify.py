"""``verify_minhash``: re-check an index's MinHash files against their record.

Checks that ``minhash.json`` is present and readable, that it matches the copy
embedded in the index manifest, and for ``signatures.parquet`` and
``bands.parquet``: present, same size and sha256 as recorded, readable as
Parquet, the recorded row counts and the right signature width. Problems are
returned as messages (an empty list means all is well), so ``index verify`` can
list everything wrong in one run.

What it leaves out: it does not recompute signatures from the tokens (the shard
checksums, checked by ``index/verify.py``, cover the tokens they came from).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpusmap.index.format import MANIFEST, sha256_file
from corpusmap.index.minhash.store import BANDS, MINHASH_DIR, RECORD, SIGNATURES


def _check_file(path: Path, record: dict[str, Any], rows: int) -> list[str]:
    name = path.name
    if not path.is_file():
        return [f"{path}: missing"]
    size = record.get("sizes", {}).get(name)
    if size is not None and path.stat().st_size != size:
        return [f"{path}: {path.stat().st_size} bytes, minhash.json says {size} (truncated?)"]
    problems = []
    if sha256_file(path) != record.get("files", {}).get(name):
        problems.append(f"{path}: sha256 mismatch (file changed or corrupt)")
    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowInvalid) as exc:
        return [*problems, f"{path}: unreadable as Parquet ({exc})"]
    if meta.num_rows != rows:
        problems.append(f"{path}: {meta.num_rows} rows, minhash.json says {rows}")
    return problems


def verify_minhash(folder: Path) -> list[str]:
    """Problems with the MinHash files of the index at ``folder`` (empty when fine)."""
    out = Path(folder) / MINHASH_DIR
    rec_path = out / RECORD
    if not rec_path.is_file():
        return [f"{rec_path}: missing"]
    try:
        record = json.loads(rec_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{rec_path}: unreadable ({exc})"]
    problems = []
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("minhash") not in (None, record):
            problems.append(f"{rec_path}: differs from the manifest's minhash record")
    except (OSError, ValueError):
        pass  # the index's own verify reports a bad manifest
    try:
        n_docs, n_band_rows = int(record["n_docs"]), int(record["n_band_rows"])
        num_perm = int(record["num_perm"])
    except (KeyError, TypeError, ValueError):
        return [*problems, f"{rec_path}: incomplete record; rebuild the index"]
    sig_problems = _check_file(out / SIGNATURES, record, n_docs)
    problems += sig_problems
    problems += _check_file(out / BANDS, record, n_band_rows)
    if not sig_problems:
        field = pq.read_schema(out / SIGNATURES).field("hashvalues").type
        if getattr(field, "list_size", None) != num_perm:
            problems.append(
                f"{out / SIGNATURES}: hashvalues is {field}, expected {num_perm} values"
            )
    return problems
