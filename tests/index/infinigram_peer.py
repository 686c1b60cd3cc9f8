"""Build small infini-gram indexes with the real infini-gram indexer, and open its engine.

u8: documents as ``{"text": ...}`` jsonl in an absolute data folder, tokenized by the
indexer itself. u16: pre-tokenized documents written by hand as the indexer would
(each preceded by 0xFFFF, round-robin over shards, uint64 offsets), after which the
indexer skips its tokenize step and sorts the suffix arrays with its Rust binary.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("infini_gram")
pytest.importorskip("transformers")  # the indexer imports it

EOS_U8, EOS_U16 = 254, 65534


def _run_indexer(data: Path, out: Path, dtype: str, shards: int, metadata: bool) -> Path:
    cmd = [
        sys.executable, "-m", "infini_gram.indexing", "--data_dir", str(data.resolve()),
        "--save_dir", str(out.resolve()), "--token_dtype", dtype, "--cpus", "1", "--mem", "1",
        "--ulimit", "1024", "--shards", str(shards),
    ]  # fmt: skip
    if metadata:
        cmd.append("--add_metadata")
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return out


def build_u8(tmp: Path, texts: list[str], shards: int = 1, metadata: bool = False) -> Path:
    """An infini-gram u8 index of ``texts`` (UTF-8 bytes), built by the indexer."""
    data = tmp / "ig_data"
    data.mkdir()
    with open(data / "docs.jsonl", "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"text": t, "id": f"d{i}"}) + "\n")
    return _run_indexer(data, tmp / "ig_u8", "u8", shards, metadata)


def build_u16(tmp: Path, docs: list[list[int]], shards: int = 1) -> Path:
    """An infini-gram u16 index of token-id documents (shard ``i % shards`` per doc)."""
    out, data = tmp / "ig_u16", tmp / "ig_empty"
    out.mkdir()
    data.mkdir()
    for k in range(shards):
        mine = docs[k::shards]
        with open(out / f"tokenized.{k}", "wb") as ds, open(out / f"offset.{k}", "wb") as od:
            pos = 0
            for d in mine:
                content = np.array([0xFFFF, *d], dtype="<u2").tobytes()
                od.write(np.array([pos], dtype="<u8").tobytes())
                ds.write(content)
                pos += len(content)
    return _run_indexer(data, out, "u16", shards, False)


def engine(path: Path, dtype: str):  # type: ignore[no-untyped-def]
    from infini_gram.engine import InfiniGramEngine

    if dtype == "u8":
        return InfiniGramEngine(
            index_dir=str(path), eos_token_id=EOS_U8, vocab_size=255, version=4, token_dtype="u8"
        )
    return InfiniGramEngine(
        index_dir=str(path), eos_token_id=EOS_U16, vocab_size=65535, version=4, token_dtype="u16"
    )


def shard_order(n_docs: int, shards: int) -> list[int]:
    """Input positions of the documents in infini-gram's numbering (shard after shard)."""
    return [i for k in range(shards) for i in range(k, n_docs, shards)]
