"""Block checksums: never answer a query from bytes that changed since the build.

A damaged index must refuse, not answer wrong. Checks only at the borders of a
found range are not enough: one corrupted suffix-array entry probed mid-search
sends the binary search the wrong way and leaves consistent-looking borders. So,
as storage systems do (ZFS, PostgreSQL data checksums), every fixed-size block of
a shard's big files carries a checksum written at build time and verified the
first time the process reads that block:

* build (``publish.finish_shard``): one pass over ``tokens.bin`` and ``sa.bin``
  gives their sha256 and one xxh3-64 per ``BLOCK_BYTES`` block; the block sums go
  to the shard's ``checksums.bin`` (u64 little-endian, tokens blocks then
  suffix-array blocks), which is itself listed with its sha256 in the record;
* open (``Shard``): sizes against the record, and the sha256 of the small files
  (``docs.parquet``, ``checksums.bin``), which ``BlockChecker`` checks here;
* query: ``Shard.tokens`` / ``Shard.sa`` verify every block of their file on first
  use (a binary search may probe any block), ``Shard.token_slice`` only the blocks
  it returns; verified blocks are remembered per file in a bitset for the life of
  the ``Shard`` object, so later queries pay nothing.

An index of format version 1 (built before block checksums) has none: its big
files are verified whole, by their sha256, on first use instead (slower, same
guarantee). What it leaves out: bytes changed on disk *after* they were verified
in this process are not seen (the pages are trusted once checked); xxh3 catches
damage, not a forger who also rewrites ``checksums.bin`` and the manifest.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from corpusmap.errors import IndexCorruptError, IndexFormatError
from corpusmap.index.format import CHECKSUMS, SUFFIX_ARRAY, TOKENS, sha256_file
from corpusmap.progress import progress_bar

BLOCK_BYTES = 1 << 20  # xxh3 runs at ~12 GB/s on 1 MiB blocks (4 MiB: ~16; 64 KiB: ~8)
HASH = "xxh3_64"
BLOCK_FILES = (TOKENS, SUFFIX_ARRAY)
_PROGRESS_BYTES = 1 << 30  # show a progress line when verifying more than this at once


def hash_file(path: Path, block_bytes: int = BLOCK_BYTES) -> tuple[str, np.ndarray]:
    """The sha256 of a file and the xxh3-64 of each of its blocks, in one read pass."""
    sha = hashlib.sha256()
    sums: list[int] = []
    buf = bytearray(block_bytes)
    view = memoryview(buf)
    with open(path, "rb") as f:
        while n := f.readinto(buf):
            sha.update(view[:n])
            sums.append(xxhash.xxh3_64_intdigest(view[:n]))
    return sha.hexdigest(), np.array(sums, dtype="<u8")


def write_checksums(folder: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """Hash a finished shard's big files; write ``checksums.bin``.

    Returns:
        The sha256 of ``tokens.bin`` and ``sa.bin``, and the record's ``blocks``
        entry (hash name, block size, number of blocks per file).
    """
    digests, parts, counts = {}, [], {}
    for name in BLOCK_FILES:
        digests[name], sums = hash_file(folder / name)
        parts.append(sums)
        counts[name] = int(sums.size)
    np.concatenate(parts).astype("<u8").tofile(folder / CHECKSUMS)
    return digests, {"hash": HASH, "block_bytes": BLOCK_BYTES, "counts": counts}


class BlockChecker:
    """Verified-block bitsets of one shard's big files (see module docstring).

    Args:
        folder: the shard folder.
        record: the shard's record from the manifest.
        arrays: the memory maps of ``tokens.bin`` and ``sa.bin`` (by file name).
    """

    def __init__(self, folder: Path, record: dict[str, Any], arrays: dict[str, np.ndarray]):
        self.folder = folder
        self.record = record
        self.arrays = arrays
        self._lock = threading.Lock()
        spec = record.get("blocks")
        self.block_bytes = int(spec["block_bytes"]) if spec else 0
        self.sums: dict[str, np.ndarray] = {}
        if spec:
            if spec.get("hash") != HASH:
                raise IndexFormatError(
                    f"{folder}: block checksums use {spec.get('hash')!r}, this corpusmap "
                    f"reads {HASH!r}; rebuild the index"
                )
            self.check_small(CHECKSUMS)
            raw = np.fromfile(folder / CHECKSUMS, dtype="<u8")
            counts = [int(spec["counts"][name]) for name in BLOCK_FILES]
            if raw.size != sum(counts):
                raise self._corrupt(f"{CHECKSUMS} holds {raw.size} sums, expected {sum(counts)}")
            self.sums = dict(zip(BLOCK_FILES, np.split(raw, np.cumsum(counts)[:-1]), strict=True))
            for name in BLOCK_FILES:
                need = -(-arrays[name].nbytes // self.block_bytes)
                if self.sums[name].size != need:
                    raise self._corrupt(f"{name} has {need} blocks, {CHECKSUMS} lists {counts}")
        self.verified = {
            name: np.zeros(self.sums[name].size if spec else 1, dtype=bool) for name in BLOCK_FILES
        }
        self.whole = dict.fromkeys(BLOCK_FILES, False)

    @property
    def has_blocks(self) -> bool:
        return bool(self.sums)

    def _corrupt(self, what: str) -> IndexCorruptError:
        return IndexCorruptError(
            f"index {self.folder.parent} shard {self.folder.name}: {what}: the index is "
            f"damaged; run `corpusmap index verify {self.folder.parent}` and rebuild it"
        )

    def check_small(self, name: str) -> None:
        """Compare a small file of the shard with its sha256 in the record."""
        digest = self.record.get("files", {}).get(name)
        path = self.folder / name
        if not path.is_file():
            raise IndexFormatError(f"{path}: missing; the index is damaged, rebuild it")
        if digest is not None and sha256_file(path) != digest:
            raise self._corrupt(f"{name} fails its sha256")

    def ensure_all(self, name: str) -> None:
        """Verify every block of ``name`` not verified yet (no-op once all are)."""
        if not self.whole[name]:
            self.ensure(name, 0, self.arrays[name].nbytes)
            self.whole[name] = True

    def ensure(self, name: str, lo: int, hi: int) -> None:
        """Verify the blocks covering bytes ``[lo, hi)`` of ``name`` that are not verified yet.

        Raises:
            IndexCorruptError: a block's bytes differ from its checksum.
        """
        if hi <= lo or self.whole[name]:
            return
        with self._lock:
            if not self.has_blocks:
                self._ensure_sha256(name)
                return
            bb = self.block_bytes
            todo = np.flatnonzero(~self.verified[name][lo // bb : -(-hi // bb)]) + lo // bb
            if todo.size == 0:
                return
            data = memoryview(self.arrays[name]).cast("B")
            bad = _first_bad(data, self.sums[name], todo, bb, f"{self.folder.name} {name}")
            if bad >= 0:
                raise self._corrupt(f"block {bad} of {name} fails its checksum")
            self.verified[name][todo] = True

    def _ensure_sha256(self, name: str) -> None:
        """Format 1 (no block sums): the whole file against its sha256, once."""
        if self.verified[name][0]:
            return
        if self.arrays[name].nbytes and sha256_file(self.folder / name) != (
            self.record["files"][name]
        ):
            raise self._corrupt(f"{name} fails its sha256")
        self.verified[name][0] = True


def _first_bad(data: memoryview, sums: np.ndarray, todo: np.ndarray, bb: int, label: str) -> int:
    """The first block of ``todo`` whose xxh3 differs from ``sums`` (-1: none)."""
    total = int(todo.size) * bb
    with progress_bar() as prog:
        task = (
            prog.add_task(f"verify {label}", total=total, unit="B")
            if total > _PROGRESS_BYTES
            else None
        )
        for b in todo.tolist():
            if xxhash.xxh3_64_intdigest(data[b * bb : (b + 1) * bb]) != int(sums[b]):
                return int(b)
            if task is not None:
                prog.advance(task, bb)
    return -1
