"""``verify_index``: re-check an index against its manifest, thoroughly.

Opening an index checks only cheap things (manifest, versions, file sizes, small
files' sha256); queries verify block checksums as they read (``integrity``). Verify
re-checks every file: ``tokens.bin`` and ``sa.bin`` block by block against
``checksums.bin`` (xxh3, ~10x faster than sha256, and it names the damaged blocks;
``checksums.bin`` itself by sha256), the other files (and the big ones of a format-1
index, which has no block sums) by sha256; it checks the document table's row count, and
checks the suffix array on a random sample of adjacent pairs: each entry must be
a valid non-separator position and each pair must be in order (suffixes compared
token by token, up to ``depth`` tokens). It reports problems instead of raising,
so one run lists everything that is wrong.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pyarrow.parquet as pq

from corpusmap.errors import CorpusmapError
from corpusmap.index.format import (
    CHECKSUMS,
    DOCS,
    SUFFIX_ARRAY,
    TOKENS,
    read_manifest,
    sha256_file,
)
from corpusmap.index.integrity import BLOCK_FILES, bad_blocks, read_checksums
from corpusmap.tokenizer.spec import WIDTHS


@numba.njit(cache=True)
def _check_pairs(tokens, sa, idx, sep, depth):  # type: ignore[no-untyped-def]
    """Number of sampled adjacent pairs out of order or pointing at bad positions."""
    n = tokens.shape[0]
    bad = 0
    for j in range(idx.shape[0]):
        i = idx[j]
        a, b = np.int64(sa[i]), np.int64(sa[i + 1])
        if a >= n or b >= n or tokens[a] == sep or tokens[b] == sep:
            bad += 1
            continue
        for k in range(depth):
            ta = np.int64(tokens[a + k]) if a + k < n else -1
            tb = np.int64(tokens[b + k]) if b + k < n else -1
            if ta < tb:
                break
            if ta > tb or (ta == -1 and tb == -1):
                bad += 1
                break
    return bad


def verify_index(
    path: str | os.PathLike, sample: int = 100_000, depth: int = 512
) -> dict[str, Any]:
    """Check every file of an index; returns ``{"ok", "problems", "checked"}``."""
    folder = Path(path)
    manifest = read_manifest(folder)
    problems: list[str] = []
    checked = {"files": 0, "sa_pairs": 0}
    for name, digest in manifest.get("files", {}).items():
        checked["files"] += 1
        if not (folder / name).is_file() or sha256_file(folder / name) != digest:
            problems.append(f"{folder / name}: missing or checksum mismatch")
    rng = np.random.default_rng(0)
    dtype = WIDTHS[manifest["token_width"]]
    sep = int(manifest["separator_id"])
    for rec in manifest["shards"]:
        shard = folder / rec["name"]
        intact, sums = True, None
        for name, digest in sorted(rec["files"].items(), key=lambda kv: kv[0] in BLOCK_FILES):
            checked["files"] += 1
            f = shard / name
            if not f.is_file():
                problems.append(f"{f}: missing")
                intact = False
            elif f.stat().st_size != rec["sizes"][name]:
                problems.append(
                    f"{f}: {f.stat().st_size} bytes, manifest says {rec['sizes'][name]}"
                )
                intact = False
            elif name in BLOCK_FILES and sums is not None:
                if bad := bad_blocks(f, sums[name], rec["blocks"]["block_bytes"]):
                    checked["blocks_failed"] = checked.get("blocks_failed", 0) + len(bad)
                    problems.append(
                        f"{f}: {len(bad)} block(s) fail their checksum (block "
                        f"{', '.join(map(str, bad[:5]))}{', ...' if len(bad) > 5 else ''})"
                    )
            elif sha256_file(f) != digest:
                problems.append(f"{f}: sha256 mismatch (file changed or corrupt)")
            elif name == CHECKSUMS:  # sorted first of the three: the sums are sound
                sums = read_checksums(shard, rec)
        if not intact:
            continue
        try:
            rows = pq.ParquetFile(shard / DOCS).metadata.num_rows
            if rows != rec["n_docs"]:
                problems.append(f"{shard / DOCS}: {rows} rows, manifest says {rec['n_docs']}")
        except Exception as exc:  # any parquet failure is a problem to report
            problems.append(f"{shard / DOCS}: unreadable ({exc})")
        tokens = np.fromfile(shard / TOKENS, dtype=dtype) if rec["n_tokens"] else np.zeros(0, dtype)
        sa = (
            np.memmap(shard / SUFFIX_ARRAY, dtype=np.uint32, mode="r")
            if rec["n_suffixes"]
            else None
        )
        if sa is not None and sa.shape[0] > 1:
            m = sa.shape[0] - 1
            idx = rng.choice(m, size=min(sample, m), replace=False).astype(np.int64)
            bad = _check_pairs(tokens, np.asarray(sa), idx, sep, depth)
            checked["sa_pairs"] += int(idx.size)
            if bad:
                problems.append(
                    f"{shard / SUFFIX_ARRAY}: {bad} of {idx.size} sampled pairs out of order"
                )
    if manifest.get("minhash"):
        try:
            from corpusmap.index.minhash.verify import verify_minhash

            problems.extend(verify_minhash(folder))
        except ImportError:  # pragma: no cover - minhash module always ships
            problems.append("minhash files present but the minhash module is unavailable")
    return {"ok": not problems, "problems": problems, "checked": checked}


def check_ok(result: dict[str, Any], path: str | os.PathLike) -> None:
    """Raise when verify found problems (for callers that want an exception)."""
    if not result["ok"]:
        raise CorpusmapError(f"{path}: index verify failed: " + "; ".join(result["problems"]))
