"""MinHash for any opened index, in a folder beside it (``corpusmap index minhash``).

A published infini-gram folder has no MinHash signatures and must stay read-only, and
one of our indexes may have been built with ``--no-minhash`` or other parameters.
``build_minhash_for(index, out)`` reads the documents of the opened index, shard by
shard in chunks (``build.cut_chunks``: the tokens of a run of documents, one
``token_ids`` read each, whatever the index's layout), signs them and writes the
files ``build_minhash`` writes (``signatures.parquet``, ``bands.parquet``,
``minhash.json``) into ``out``, never into the index folder. ``minhash.json`` also
names the index it belongs to (``index``: path, format, counts and fingerprint), so
``open_index(path, minhash=out)`` (``attach_minhash``) refuses a folder made for
another index; ``near_duplicates``, ``duplicates`` and ``classify``'s nearest-document
lookup then read the side folder.

The fingerprint: for our indexes the manifest's ``corpus_fingerprint`` (the sha256
of every shard's tokens, exact and free); for a foreign index the size of every file
of every shard and the sha256 of sampled blocks of each (its head, its tail and
``SAMPLES`` blocks spread between), read in milliseconds whatever the index's size.

What it leaves out: a foreign file changed in place without changing its size and
outside every sampled block is not noticed (rebuild the side folder after editing an
index); ``index verify`` does not check side folders.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from corpusmap.errors import CorpusmapError
from corpusmap.index.format import FORMAT_NAME, sha256_file
from corpusmap.index.layout import token_ids
from corpusmap.index.minhash.build import Chunk, cut_chunks, minhash_params, write_minhash
from corpusmap.index.minhash.lsh import WEIGHTS
from corpusmap.index.minhash.store import BANDS, RECORD, SIGNATURES, load_params

SAMPLES = 16
BLOCK = 1 << 12
_OURS = {SIGNATURES, BANDS, RECORD}


def _sampled_digest(path: Path) -> str:
    """sha256 of a file's size, head, tail and ``SAMPLES`` blocks spread between."""
    size = path.stat().st_size
    h = hashlib.sha256(f"{path.name}:{size}".encode())
    at = np.linspace(0, max(size - BLOCK, 0), SAMPLES + 2).astype(np.int64)
    with open(path, "rb") as f:
        for pos in np.unique(at).tolist():
            f.seek(pos)
            h.update(f.read(BLOCK))
    return h.hexdigest()


def index_fingerprint(index: Any) -> str:
    """What identifies the documents of ``index`` (see module docstring)."""
    m = index.manifest
    if m.get("format") == FORMAT_NAME:
        return hashlib.sha256(f"corpusmap|{m['corpus_fingerprint']}".encode()).hexdigest()
    parts = [m.get("format"), index.width, int(index.n_docs), int(index.n_tokens)]
    for shard in index.shards:
        parts.append([shard.n_docs, [_sampled_digest(f) for f in shard.files()]])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _owner(index: Any) -> dict[str, Any]:
    return {
        "path": str(Path(index.path).resolve()),
        "format": index.manifest.get("format"),
        "n_docs": int(index.n_docs),
        "n_tokens": int(index.n_tokens),
        "n_shards": len(index.shards),
        "tokenizer": index.spec.name,
        "fingerprint": index_fingerprint(index),
    }


def _lengths(shard: Any) -> np.ndarray:
    own = getattr(shard, "lengths", None)  # foreign shards have them from their offsets
    if own is None:
        own = shard.docs.column("length").to_numpy()
    return np.asarray(own, dtype=np.int64)


def index_chunks(index: Any) -> Iterator[Chunk]:
    """The documents of an opened index as signing chunks, shard after shard."""
    for shard in index.shards:
        ids = np.arange(shard.n_docs, dtype=np.int64) + shard.first_doc_id
        starts = np.asarray(shard.starts, dtype=np.int64)
        tokens = shard.tokens
        read = lambda a, b, t=tokens: token_ids(t, a, b)  # noqa: E731
        yield from cut_chunks(ids, starts, _lengths(shard), read)


def _inside(child: Path, parent: Path) -> bool:
    child, parent = child.resolve(), parent.resolve()
    return child == parent or parent in child.parents


def _check_out(index: Any, out: Path, force: bool) -> dict[str, Any] | None:
    """Refuse an ``out`` that is not ours to write; the record already there, if any."""
    if _inside(out, index.path):
        raise CorpusmapError(
            f"{out} is inside the index folder {index.path}; corpusmap never writes into an "
            "index it did not build there: choose --out outside it"
        )
    if out.exists() and not out.is_dir():
        raise CorpusmapError(f"{out} is a file; --out must be a folder (new or a side folder)")
    if not out.is_dir():
        return None
    if (out / RECORD).is_file():
        return load_params(out)
    strangers = [p.name for p in out.iterdir() if p.name not in _OURS and p.name[0] != "."]
    if strangers and not force:
        raise CorpusmapError(
            f"{out} holds other files ({', '.join(sorted(strangers)[:3])}...) and no "
            "minhash.json; choose an empty or new --out (or pass --force to write there)"
        )
    return None


def build_minhash_for(
    index: Any,
    out: str | os.PathLike,
    *,
    workers: int = 1,
    num_perm: int = 128,
    shingle: int = 5,
    seed: int = 1,
    threshold: float = 0.8,
    scheme: str = "affine32",
    weights: tuple[float, float] = WEIGHTS,
    force: bool = False,
) -> dict[str, Any]:
    """Write MinHash signatures and LSH bands of every document of ``index`` into ``out``.

    Args:
        index: an opened index (``open_index``): ours or a foreign one.
        out: the side folder (created; never inside the index folder).
        workers: kernel threads.
        num_perm / shingle / seed / threshold / scheme / weights: as ``build_minhash``;
            the same values give the same signatures as our own build of the same
            documents.
        force: replace a side folder made for another index.

    Returns:
        The record saved as ``out/minhash.json`` (``build_minhash``'s, plus ``index``).
        A rerun with the same index and parameters whose files still match their
        sha256 skips the work.
    """
    out = Path(out)
    params = minhash_params(
        num_perm=num_perm,
        shingle=shingle,
        seed=seed,
        threshold=threshold,
        scheme=scheme,
        weights=weights,
    )
    params["index"] = _owner(index)
    params["tokenizer"] = index.spec.kind
    old = _check_out(index, out, force)
    if old is not None:
        fp = old.get("index", {}).get("fingerprint")
        if fp != params["index"]["fingerprint"] and not force:
            raise CorpusmapError(
                f"{out} holds MinHash signatures of another index "
                f"({old.get('index', {}).get('path')}); choose another --out or pass --force"
            )
        same = (
            all(old.get(k) == v for k, v in params.items() if k != "index")
            and fp == (params["index"]["fingerprint"])
        )
        if same and all(sha256_file(out / f) == d for f, d in old["files"].items()):
            print(f"{out}: MinHash of this index with these parameters already built; skipped")
            return old
    out.mkdir(parents=True, exist_ok=True)
    (out / RECORD).unlink(missing_ok=True)  # files without a record are never used
    return write_minhash(out, index_chunks(index), params, int(index.n_docs) or None, workers)


def attach_minhash(index: Any, folder: str | os.PathLike) -> None:
    """Make ``index`` read its MinHash from the side folder ``folder``.

    Raises:
        CorpusmapError: the folder was made for another index (or is not a side folder).
    """
    folder = Path(folder)
    record = load_params(folder)
    owner = record.get("index")
    if not isinstance(owner, dict):
        raise CorpusmapError(
            f"{folder}: not a MinHash side folder (its minhash.json names no index); make one "
            f"with `corpusmap index minhash {index.path} --out DIR`"
        )
    if owner.get("fingerprint") != index_fingerprint(index):
        raise CorpusmapError(
            f"{folder} holds MinHash signatures of another index ({owner.get('path')}, "
            f"{owner.get('n_docs')} documents), not of {index.path} ({index.n_docs} documents); "
            f"make one with `corpusmap index minhash {index.path} --out DIR`"
        )
    index.minhash_dir = folder
    index.manifest["minhash"] = record
