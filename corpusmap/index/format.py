"""The index format on disk: names, manifest, checksums.

An index is a folder::

    NAME/manifest.json          format version, tokenizer spec, width, shards, counts,
                                build parameters, sha256 of every file, fingerprint
    NAME/vocab.txt | tokenizer.json   the tokenizer's vocabulary (if it has one)
    NAME/shard-KKK/tokens.bin   token ids, fixed width, little-endian; every document
                                is followed by the separator id (the width's max)
    NAME/shard-KKK/sa.bin       u32 suffix array: start positions of every suffix
                                that does not start on a separator, sorted
    NAME/shard-KKK/docs.parquet doc_id, start, length, id, source, row, meta (JSON)
    NAME/shard-KKK/checksums.bin  xxh3-64 of every 1 MiB block of tokens.bin, then of
                                sa.bin (u64 little-endian; see ``integrity``; version 2)
    NAME/shard-KKK/shard.json   the shard's own record (written last: marks it done)
    NAME/minhash/...            near-duplicate index (see index/minhash)

Builds happen in ``.NAME.building`` beside the target and are renamed into place
when complete, so a folder named NAME that has a manifest is always whole. Single
files are written with :mod:`corpusmap.atomic`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from corpusmap.errors import IndexFormatError

FORMAT_NAME = "corpusmap-index"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: no block checksums (big files verified by sha256 instead)
MANIFEST = "manifest.json"
SHARD_RECORD = "shard.json"
TOKENS = "tokens.bin"
SUFFIX_ARRAY = "sa.bin"
DOCS = "docs.parquet"
CHECKSUMS = "checksums.bin"
SA_WIDTH = 4  # bytes per suffix-array entry (u32: a shard holds < 2^31 bytes of tokens)
MAX_SHARD_BYTES = 2**31 - 2  # libdivsufsort's 32-bit limit


def shard_name(k: int) -> str:
    return f"shard-{k:03d}"


def building_dir(out: Path) -> Path:
    """The temporary sibling an index is built in before it is renamed into place."""
    return out.parent / f".{out.name}.building"


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_manifest(folder: Path) -> dict[str, Any]:
    """Load and check a manifest: present, parseable, our format and version."""
    path = folder / MANIFEST
    hint = ""
    if building_dir(folder).exists():
        hint = " (a build of it was interrupted: rerun the same `index build` to resume)"
    if not folder.is_dir():
        raise IndexFormatError(
            f"{folder}: no such index folder{hint or '; build one with `corpusmap index build`'}"
        )
    if not path.is_file():
        raise IndexFormatError(f"{folder}: not a corpusmap index, {MANIFEST} is missing{hint}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexFormatError(
            f"{path}: manifest is not valid JSON ({exc}); rebuild the index"
        ) from exc
    if data.get("format") != FORMAT_NAME:
        raise IndexFormatError(f"{path}: not a corpusmap index manifest")
    if data.get("format_version") not in READABLE_VERSIONS:
        raise IndexFormatError(
            f"{path}: index format version {data.get('format_version')} but this corpusmap reads "
            f"version {FORMAT_VERSION}; rebuild the index with this version"
        )
    return data


SUMMARY_KEYS = (
    "format_version", "n_docs", "n_tokens", "n_shards", "token_width", "tokenizer",
    "read_stats", "corpus_fingerprint", "created_at", "build", "minhash", "sharding",
)  # fmt: skip


def summary(path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """What ``corpusmap index info`` shows: manifest fields, the path, bytes on disk."""
    info = {k: manifest.get(k) for k in SUMMARY_KEYS}
    info["path"] = str(path)
    info["bytes_on_disk"] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return info
