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


def hash_file(path: Path, block_bytes: int) -> tuple[str, np.ndarray]:
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


def bad_blocks(path: Path, sums: np.ndarray, block_bytes: int) -> list[int]:
    """The blocks of a file whose xxh3-64 differs from ``sums`` (read, not mapped).

    A file with more or fewer blocks than ``sums`` lists the missing or extra ones.
    """
    bad: list[int] = []
    buf = bytearray(block_bytes)
    view = memoryview(buf)
    b = 0
    with open(path, "rb") as f:
        while n := f.readinto(buf):
            if b >= sums.size or xxhash.xxh3_64_intdigest(view[:n]) != int(sums[b]):
                bad.append(b)
            b += 1
    return bad + list(range(b, int(sums.size)))


def read_checksums(folder: Path, record: dict[str, Any]) -> dict[str, np.ndarray]:
    """A shard's block sums by file name, as ``checksums.bin`` holds them (unchecked)."""
    counts = [int(record["blocks"]["counts"][name]) for name in BLOCK_FILES]
    raw = np.fromfile(folder / CHECKSUMS, dtype="<u8")
    if raw.size != sum(counts):
        raise ValueError(f"{CHECKSUMS} holds {raw.size} sums, the record says {sum(counts)}")
    return dict(zip(BLOCK_FILES, np.split(raw, np.cumsum(counts)[:-1]), strict=True))


def write_checksums(folder: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """Hash a finished shard's big files; write ``checksums.bin``.

    Returns:
        The sha256 of ``tokens.bin`` and ``sa.bin``, and the record's ``blocks``
        entry (hash name, block size, number of blocks per file).
    """
    digests, parts, counts = {}, [], {}
    for name in BLOCK_FILES:
        digests[name], sums = hash_file(folder / name, BLOCK_BYTES)
        parts.append(sums)
        counts[name] = int(sums.size)
    np.concatenate(parts).astype("<u8").tofile(folder / CHECKSUMS)
    return digests, {"hash": HASH, "block_bytes": BLOCK_BYTES, "counts": counts}


def check_index_files(path: Path, manifest: dict[str, Any]) -> None:
    """The index-level files the manifest lists (the tokenizer's vocabulary) by sha256."""
    for name, digest in manifest.get("files", {}).items():
        f = Path(path) / name
        if not f.is_file() or sha256_file(f) != digest:
            raise IndexCorruptError(
                f"index {path}: {name} is missing or fails its sha256: the index is damaged; "
                f"run `corpusmap index verify {path}` and rebuild it"
            )


def check_minhash_files(folder: Path) -> None:
    """The MinHash files a near-duplicate query reads, against ``minhash.json``'s sha256.

    ``folder``: the index's ``minhash/`` folder, or a side folder made for it.

    Near-duplicate queries read only these (and ``docs.parquet``, checked at open;
    ``exact=True`` also reads document tokens, block-verified), so they verify these
    whole, once per process for each file (remembered by path, inode, size and mtime).
    An index without MinHash is left to the query's own error.
    """
    import json

    folder = Path(folder)
    try:
        record = json.loads((folder / "minhash.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for name, digest in record.get("files", {}).items():
        path = folder / name
        try:
            st = path.stat()
            key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, digest)
        except OSError:
            key = None
        if key is not None and key in _VERIFIED_FILES:
            continue
        if key is None or sha256_file(path) != digest:
            raise IndexCorruptError(
                f"{folder}/{name} is missing or fails its sha256: the MinHash files are "
                "damaged; run `corpusmap index verify` on the index and rebuild them"
            )
        _VERIFIED_FILES.add(key)


_VERIFIED_FILES: set[tuple[Any, ...]] = set()


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
            try:
                self.sums = read_checksums(folder, record)
            except ValueError as exc:
                raise self._corrupt(str(exc)) from exc
            for name in BLOCK_FILES:
                need = -(-arrays[name].nbytes // self.block_bytes)
                if self.sums[name].size != need:
                    raise self._corrupt(
                        f"{name} has {need} blocks, {CHECKSUMS} lists another count"
                    )
        # the bitsets live for the process: another ``Index`` on the same unchanged
        # files (same inode, size, mtime) shares them, and its lock
        key = (str(folder.resolve()), record.get("files", {}).get(CHECKSUMS), *_stat_keys(folder))
        state = _STATES.get(key)
        if state is None:
            verified: dict[str, np.ndarray] = {
                name: np.zeros(self.sums[name].size if spec else 1, dtype=bool)
                for name in BLOCK_FILES
            }
            state = _STATES[key] = (verified, dict.fromkeys(BLOCK_FILES, False), threading.Lock())
        self.verified, self.whole, self._lock = state

    @property
    def has_blocks(self) -> bool:
        return bool(self.sums)

    def _corrupt(self, what: str) -> IndexCorruptError:
        return IndexCorruptError(
            f"index {self.folder.parent} {self.folder.name}: {what}: the index is "
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
            data = memoryview(self.arrays[name]).cast("B")  # type: ignore[arg-type]
            bad = _first_bad(data, self.sums[name], todo, bb, f"{self.folder.name} {name}")
            if bad >= 0:
                raise self._corrupt(f"block {bad} of {name} fails its checksum")
            self.verified[name][todo] = True

    def _ensure_sha256(self, name: str) -> None:
        """Format 1 (no block sums): the whole file against its sha256, once."""
        if self.verified[name][0]:
            return
        if (
            self.arrays[name].nbytes
            and sha256_file(self.folder / name) != (self.record["files"][name])
        ):
            raise self._corrupt(f"{name} fails its sha256")
        self.verified[name][0] = True


_STATES: dict[tuple[Any, ...], tuple[dict[str, np.ndarray], dict[str, bool], threading.Lock]] = {}


def _stat_keys(folder: Path) -> list[int]:
    """Inode, size and mtime of the big files: a replaced file gets new bitsets."""
    out: list[int] = []
    for name in BLOCK_FILES:
        st = (folder / name).stat()
        out += [st.st_ino, st.st_size, st.st_mtime_ns]
    return out


def _first_bad(data: memoryview, sums: np.ndarray, todo: np.ndarray, bb: int, label: str) -> int:
    """The first block of ``todo`` whose xxh3 differs from ``sums`` (-1: none)."""
    blocks = todo.tolist()
    if len(blocks) * bb <= _PROGRESS_BYTES:
        return _scan(data, sums, blocks, bb, None)
    with progress_bar() as prog:
        task = prog.add_task(f"verify {label}", total=len(blocks) * bb, unit="B")
        return _scan(data, sums, blocks, bb, lambda: prog.advance(task, bb))


def _scan(data: memoryview, sums: np.ndarray, blocks: list[int], bb: int, tick: Any) -> int:
    for b in blocks:
        if xxhash.xxh3_64_intdigest(data[b * bb : (b + 1) * bb]) != int(sums[b]):
            return b
        if tick is not None:
            tick()
    return -1
