"""classify reads dumps through corpusmap.sources: compressed JSONL equals plain JSONL."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import zstandard

from corpusmap.errors import InputError
from corpusmap.index.opening import open_index
from corpusmap.match import classify
from corpusmap.match.inputs import read_table
from tests.conftest import build_from_docs


def _ids(seq) -> str:
    return " ".join(map(str, seq))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A 20-document corpus and 30 generations, half copying a corpus stretch."""
    tmp = tmp_path_factory.mktemp("c")
    rng = np.random.default_rng(5)
    docs = [rng.integers(0, 30, size=int(rng.integers(20, 60))).tolist() for _ in range(20)]
    ix = open_index(build_from_docs(tmp, docs, vocab=40))
    rows = []
    for g in range(30):
        doc = docs[g % len(docs)]
        out = doc[3:13] if g % 2 else rng.integers(0, 30, size=10).tolist()
        rows.append({"gen_id": f"g{g}", "prompt": _ids(doc[:3]), "output": _ids(out), "k": g})
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    return tmp, ix, data


def _tables(out):
    return {name: pq.read_table(out / name).to_pylist() for name in ("generations", "spans")}


def test_classify_on_jsonl_zst_and_gz_equals_plain_jsonl(setup, tmp_path):
    _, ix, data = setup
    (tmp_path / "d.jsonl").write_bytes(data)
    (tmp_path / "d.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    (tmp_path / "d.jsonl.gz").write_bytes(gzip.compress(data))
    kw = {"min_span": 3, "minhash": False, "patterns": False}
    plain = _tables(classify(tmp_path / "d.jsonl", ix, tmp_path / "r", **kw))
    assert len(plain["generations"]) == 30 and plain["spans"]
    for name in ("d.jsonl.zst", "d.jsonl.gz"):
        assert _tables(classify(tmp_path / name, ix, tmp_path / f"r-{name}", **kw)) == plain


def test_truncated_or_malformed_dump_names_file_and_line(setup, tmp_path):
    _, _, data = setup
    packed = zstandard.ZstdCompressor().compress(data)
    (tmp_path / "cut.jsonl.zst").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputError, match=r"cut\.jsonl\.zst: could not decompress after line"):
        read_table(tmp_path / "cut.jsonl.zst")
    (tmp_path / "bad.jsonl.gz").write_bytes(gzip.compress(b'{"output": "1"}\n{"output": 1,}\n'))
    with pytest.raises(InputError, match=r"bad\.jsonl\.gz:2:14: malformed JSON"):
        read_table(tmp_path / "bad.jsonl.gz")
    (tmp_path / "d.csv").write_text("output\n1\n")
    with pytest.raises(InputError, match="unknown format"):
        read_table(tmp_path / "d.csv")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(InputError, match=r"empty\.jsonl: no records"):
        read_table(tmp_path / "empty.jsonl")
