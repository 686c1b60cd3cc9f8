"""``verify`` and ``open`` detect damaged indexes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpusmap.errors import IndexFormatError
from corpusmap.index.format import sha256_file
from corpusmap.index.opening import open_index
from corpusmap.index.verify import verify_index
from tests.conftest import build_from_docs


@pytest.fixture
def index_path(tmp_path):
    rng = np.random.default_rng(1)
    docs = [rng.integers(0, 20, size=50).tolist() for _ in range(20)]
    return build_from_docs(tmp_path, docs, vocab=100, shard_tokens=400)


def test_intact_index_verifies(index_path) -> None:
    res = verify_index(index_path)
    assert res["ok"], res["problems"]
    assert res["checked"]["sa_pairs"] > 0


def test_flipped_byte_is_a_checksum_mismatch(index_path) -> None:
    sa = index_path / "shard-001" / "sa.bin"
    data = bytearray(sa.read_bytes())
    data[10] ^= 0xFF
    sa.write_bytes(bytes(data))
    res = verify_index(index_path)
    assert not res["ok"]
    assert any("shard-001/sa.bin" in p and "block 0" in p for p in res["problems"])


def test_truncated_file_is_refused_at_open(index_path) -> None:
    tok = index_path / "shard-000" / "tokens.bin"
    tok.write_bytes(tok.read_bytes()[:-2])
    with pytest.raises(IndexFormatError, match=r"shard-000/tokens.bin.*expected"):
        open_index(index_path)
    assert not verify_index(index_path)["ok"]


def test_unsorted_suffix_array_is_found(index_path) -> None:
    """Swap two entries and fix the checksum, as a buggy builder would: order check fails."""
    sa_path = index_path / "shard-000" / "sa.bin"
    sa = np.fromfile(sa_path, dtype=np.uint32)
    sa[[3, 40]] = sa[[40, 3]]
    sa.tofile(sa_path)
    manifest = json.loads((index_path / "manifest.json").read_text())
    manifest["shards"][0]["files"]["sa.bin"] = sha256_file(sa_path)
    (index_path / "manifest.json").write_text(json.dumps(manifest))
    res = verify_index(index_path)
    assert any("out of order" in p for p in res["problems"])


def test_other_format_version_is_refused(index_path) -> None:
    m = json.loads((index_path / "manifest.json").read_text())
    m["format_version"] = 99
    (index_path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexFormatError, match="version 99"):
        open_index(index_path)


def test_garbage_manifest_is_refused(index_path) -> None:
    (index_path / "manifest.json").write_text("{not json")
    with pytest.raises(IndexFormatError, match="not valid JSON"):
        open_index(index_path)
