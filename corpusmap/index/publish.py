"""Finishing a shard (sort + checksums) and publishing a whole index atomically.

A shard is finished when its ``shard.json`` exists: it is written last, after the
suffix array is sorted and every file of the shard is checksummed (sha256 of each
file, plus the block checksums of ``integrity``), so a resumed build can trust
(after re-checking the sums) any shard that has one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from corpusmap import __version__
from corpusmap.atomic import fsync_dir, write_json
from corpusmap.index.format import (
    CHECKSUMS,
    DOCS,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    SHARD_RECORD,
    SUFFIX_ARRAY,
    TOKENS,
    sha256_file,
)
from corpusmap.index.integrity import write_checksums
from corpusmap.index.sort import build_suffix_array
from corpusmap.sources.document import ReadStats
from corpusmap.tokenizer import Tokenizer
from corpusmap.tokenizer.spec import separator_id, unknown_id

SHARD_FILES = (TOKENS, SUFFIX_ARRAY, DOCS, CHECKSUMS)


def finish_shard(folder: str, width: str, record: dict[str, Any]) -> dict[str, Any]:
    """Sort a written shard, checksum its files and mark it done (runs in a worker).

    Args:
        folder: the shard folder, holding ``tokens.bin`` and ``docs.parquet``.
        width: token width.
        record: what the writer knows (name, n_docs, n_tokens, first_doc_id).

    Returns:
        The completed shard record, also saved as ``shard.json``.
    """
    path = Path(folder)
    t0 = time.perf_counter()
    record = dict(record)
    record["n_suffixes"] = build_suffix_array(path / TOKENS, width, path / SUFFIX_ARRAY)
    record["sort_seconds"] = round(time.perf_counter() - t0, 3)
    digests, record["blocks"] = write_checksums(path)  # one read pass: sha256 + blocks
    record["files"] = {name: digests.get(name) or sha256_file(path / name) for name in SHARD_FILES}
    record["sizes"] = {name: (path / name).stat().st_size for name in SHARD_FILES}
    write_json(path / SHARD_RECORD, record)
    return record


def finished_shard(folder: Path) -> dict[str, Any] | None:
    """The record of a shard finished by an earlier run, if its files still match it."""
    rec_path = folder / SHARD_RECORD
    if not rec_path.is_file():
        return None
    try:
        record = json.loads(rec_path.read_text(encoding="utf-8"))
        if "blocks" not in record:  # finished by a version without block checksums
            return None
        for name, digest in record["files"].items():
            if sha256_file(folder / name) != digest:
                return None
    except (OSError, ValueError, KeyError):
        return None
    return record


def publish(building: Path, out: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest last, then rename the build folder into place.

    An existing index at ``out`` (a forced rebuild) is moved aside first and
    removed only after the new one is in place.
    """
    write_json(building / MANIFEST, manifest)
    fsync_dir(building)
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(building, out)
    fsync_dir(out.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def index_manifest(
    tok: Tokenizer,
    width: str,
    records: list[dict[str, Any]],
    building: Path,
    params: dict[str, Any],
    plan: dict[str, Any],
    stats: ReadStats,
    t0: float,
) -> dict[str, Any]:
    """The manifest of a built index: format, tokenizer, shards with their checksums,
    build parameters and sources, read statistics and the corpus fingerprint."""
    import hashlib

    fp = hashlib.sha256("".join(r["files"]["tokens.bin"] for r in records).encode()).hexdigest()
    files = {}
    if tok.spec.file:
        files[tok.spec.file] = sha256_file(building / tok.spec.file)
    minhash_record = building / "minhash" / "minhash.json"
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "corpusmap_version": __version__,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tokenizer": tok.spec.to_dict(),
        "token_width": width,
        "separator_id": separator_id(width),
        "unknown_id": unknown_id(width),
        "n_docs": sum(r["n_docs"] for r in records),
        "n_tokens": sum(r["n_tokens"] - r["n_docs"] for r in records),
        "n_shards": len(records),
        "shards": records,
        "files": files,
        "minhash": json.loads(minhash_record.read_text()) if minhash_record.is_file() else None,
        "build": params,
        "sources": plan["sources"],
        "read_stats": stats.as_dict(),
        "corpus_fingerprint": fp,
        "build_seconds": round(time.perf_counter() - t0, 3),
    }
