"""A damaged index refuses to answer (block checksums, ``index/integrity.py``).

The two cases of issue 11: same-size corruption of ``sa.bin`` (50 entries
overwritten) and of ``tokens.bin`` (one "fox" turned into "dog") used to be caught
by ``index verify`` only while every query answered wrong. Blocks are 256 bytes
here (1 MiB in real builds) so a small corpus has many of them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from corpusmap.cli import cli
from corpusmap.errors import IndexCorruptError
from corpusmap.index import integrity
from corpusmap.index import kernels as K
from corpusmap.index.opening import open_index
from corpusmap.index.prefix_table import first_token_table
from corpusmap.index.verify import verify_index
from tests.conftest import build_from_docs

WORDS = "the quick brown fox jumps over lazy dog a cat sat on mat and ran far".split()  # noqa: SIM905


def _texts(n: int = 120, seed: int = 3) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(5, 30)))) for _ in range(n)]


@pytest.fixture
def built(tmp_path, monkeypatch):
    monkeypatch.setattr(integrity, "BLOCK_BYTES", 256)
    return build_from_docs(tmp_path, _texts(), tokenizer="words", minhash=True)


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.output


QUERIES = [
    ("count", "fox"),
    ("locate", "quick brown"),
    ("ntd", "the quick"),
    ("match", "the quick brown fox sat on the mat"),
]


def _answers(path) -> dict[str, str]:
    out = {}
    for cmd, text in [*QUERIES, ("document", "7"), ("near-dups", _texts()[5])]:
        code, text_out = _cli("index", cmd, str(path), text, "--json")
        assert code == 0, text_out
        out[cmd] = text_out
    return out


def test_block_sums_are_recorded_and_a_clean_index_answers_as_before(built) -> None:
    m = json.loads((built / "manifest.json").read_text())
    rec = m["shards"][0]
    assert rec["blocks"]["block_bytes"] == 256 and rec["blocks"]["counts"]["sa.bin"] > 10
    sums = np.fromfile(built / "shard-000" / "checksums.bin", dtype="<u8")
    sa = (built / "shard-000" / "sa.bin").read_bytes()
    assert int(sums[rec["blocks"]["counts"]["tokens.bin"]]) == integrity.xxhash.xxh3_64_intdigest(
        sa[:256]
    )
    ix = open_index(built)
    naive = sum(t.split().count("fox") for t in _texts())
    assert ix.count("fox") == naive  # and the same through every command, twice (cached)
    first = _answers(built)
    assert first == _answers(built)
    assert ix.info()["block_checksums"] is True
    assert verify_index(built)["ok"]


def _overwrite_sa(path, n: int = 50, seed: int = 0) -> None:
    """Overwrite ``n`` entries with other valid suffix positions: same size, wrong order."""
    sa_path = path / "shard-000" / "sa.bin"
    sa = np.fromfile(sa_path, dtype=np.uint32)
    rng = np.random.default_rng(seed)
    sa[rng.choice(sa.size, n, replace=False)] = sa[rng.choice(sa.size, n, replace=False)]
    sa.tofile(sa_path)


def _fox_to_dog(path) -> None:
    """Change one token: a "fox" becomes a "dog" (count of fox drops by one)."""
    ix = open_index(path)
    fox, dog = int(ix.encode("fox")[0]), int(ix.encode("dog")[0])
    tok_path = path / "shard-000" / "tokens.bin"
    tokens = np.fromfile(tok_path, dtype=ix.shards[0].tokens.dtype)
    at = np.flatnonzero(tokens == fox)
    tokens[at[at.size // 2]] = dog
    tokens.tofile(tok_path)


@pytest.mark.parametrize("damage", [_overwrite_sa, _fox_to_dog])
def test_every_query_command_refuses_a_damaged_index(built, damage) -> None:
    before = {"fox": open_index(built).count("fox")}
    damage(built)
    name = "sa.bin" if damage is _overwrite_sa else "tokens.bin"
    for cmd, text in QUERIES:
        code, out = _cli("index", cmd, str(built), text)
        assert code == 1, (cmd, out)
        assert out.count("\n") == 1 and "Traceback" not in out
        assert "shard-000: block " in out and f"of {name} fails its checksum" in out
        assert f"corpusmap index verify {built}" in out
    with pytest.raises(IndexCorruptError):
        open_index(built).count("fox")
    res = verify_index(built)
    assert not res["ok"] and any(f"shard-000/{name}" in p for p in res["problems"])
    assert before["fox"] > 0


def test_documents_verify_only_the_blocks_they_read(built) -> None:
    """``document`` reads (and verifies) only its own blocks of tokens.bin."""
    ix = open_index(built)
    last = ix.n_docs - 1
    clean_first, clean_last = ix.document(0), ix.document(last)
    tok_path = built / "shard-000" / "tokens.bin"
    data = bytearray(tok_path.read_bytes())
    data[-4] ^= 1  # a token of the last document (the file ends "... token, separator")
    tok_path.write_bytes(bytes(data))
    ix = open_index(built)
    assert ix.document(0) == clean_first
    checked = ix.shards[0].blocks.verified["tokens.bin"]
    assert 0 < checked.sum() < checked.size  # not the whole file
    code, out = _cli("index", "document", str(built), str(last))
    assert code == 1 and "of tokens.bin fails its checksum" in out
    with pytest.raises(IndexCorruptError, match="fails its checksum"):
        ix.document(last)
    assert clean_last  # the clean copy was readable


def test_near_dups_refuses_damaged_minhash_files_and_exact_reads_verified_tokens(built) -> None:
    text = _texts()[5]
    code, clean = _cli("index", "near-dups", str(built), text, "--json")
    assert code == 0 and json.loads(clean)[0][0]["doc_id"] == 5
    start = int(open_index(built).shards[0].starts[5])  # damage a token of document 5:
    tok_path = built / "shard-000" / "tokens.bin"  # estimates read no tokens, --exact
    data = bytearray(tok_path.read_bytes())  # reads the candidates' documents
    data[2 * start] ^= 1
    tok_path.write_bytes(bytes(data))
    code, out = _cli("index", "near-dups", str(built), text, "--exact")
    assert code == 1 and "of tokens.bin fails its checksum" in out
    sig = built / "minhash" / "signatures.parquet"
    data = bytearray(sig.read_bytes())
    data[len(data) // 2] ^= 0xFF
    sig.write_bytes(bytes(data))
    code, out = _cli("index", "near-dups", str(built), text)
    assert code == 1 and "minhash/signatures.parquet is missing or fails its sha256" in out
    code, out = _cli("index", "dups", str(built))
    assert code == 1 and "fails its sha256" in out


def test_classify_refuses_a_damaged_index(built, tmp_path) -> None:
    from corpusmap.match import classify

    table = [{"prompt": "the quick", "output": t} for t in _texts(10, seed=9)]
    import pyarrow as pa

    classify(pa.Table.from_pylist(table), built, tmp_path / "ok", minhash=False, patterns=False)
    _overwrite_sa(built)
    with pytest.raises(IndexCorruptError, match=r"sa\.bin fails its checksum"):
        classify(
            pa.Table.from_pylist(table), built, tmp_path / "bad", minhash=False, patterns=False
        )


def test_an_entry_probed_mid_search_is_caught(tmp_path, monkeypatch) -> None:
    """One suffix-array entry inside a query's search block, away from its range borders.

    The raw kernel over the damaged arrays (no checks) miscounts, with borders that
    look consistent; through ``Index`` the query refuses.
    """
    monkeypatch.setattr(integrity, "BLOCK_BYTES", 256)
    rng = np.random.default_rng(7)
    docs = [rng.integers(0, 4, size=200).tolist() for _ in range(20)]
    path = build_from_docs(tmp_path, docs, vocab=4)
    q = np.array([1, 2, 3, 0, 1], dtype=np.int64)
    ix = open_index(path)
    truth = ix.count(q.tolist())
    s = ix.shards[0]
    table = first_token_table(s, ix.separator)
    lo, hi = np.zeros(1, np.int64), np.zeros(1, np.int64)
    K.range_batch(s.tokens, s.sa, q, np.array([0, q.size]), lo, hi)
    block_lo, block_hi = int(table[q[0]]), int(table[q[0] + 1])  # suffixes starting with 1
    sa = np.fromfile(path / "shard-000" / "sa.bin", dtype=np.uint32)
    wrong = None
    for m in range(block_lo + 2, block_hi - 2):  # find an entry whose damage misdirects
        if lo[0] - 2 <= m <= hi[0] + 1:
            continue  # not at the found range's borders
        bad = sa.copy()
        bad[m] = sa[block_hi - 1] if m < lo[0] else sa[block_lo]
        got = np.zeros(1, np.int64)
        K.count_batch(s._tokens, bad, q, np.array([0, q.size]), got, table)
        if got[0] != truth:
            wrong = (m, bad)
            break
    assert wrong is not None, "no misdirecting entry found: the test would prove nothing"
    wrong[1].tofile(path / "shard-000" / "sa.bin")
    with pytest.raises(IndexCorruptError, match=rf"block {wrong[0] * 4 // 256} of sa.bin"):
        open_index(path).count(q.tolist())


def test_format_1_index_opens_and_is_verified_by_sha256(built) -> None:
    """An index built before block checksums: same answers, whole-file sha256 on first read."""
    m = json.loads((built / "manifest.json").read_text())
    m["format_version"] = 1
    for rec in m["shards"]:
        del rec["blocks"], rec["files"]["checksums.bin"], rec["sizes"]["checksums.bin"]
        (built / rec["name"] / "checksums.bin").unlink()
    (built / "manifest.json").write_text(json.dumps(m))
    naive = sum(t.split().count("fox") for t in _texts())
    ix = open_index(built)
    assert ix.count("fox") == naive and ix.info()["block_checksums"] is False
    code, out = _cli("index", "info", str(built))
    assert code == 0 and "block checksums absent" in out
    assert verify_index(built)["ok"]
    _overwrite_sa(built)
    code, out = _cli("index", "count", str(built), "fox")
    assert code == 1 and "sa.bin fails its sha256" in out
    assert any("sha256 mismatch" in p for p in verify_index(built)["problems"])


def test_verified_blocks_are_remembered(built, monkeypatch) -> None:
    ix = open_index(built)
    ix.count(["fox", "quick brown"])
    calls = []
    real = integrity.xxhash.xxh3_64_intdigest
    monkeypatch.setattr(integrity.xxhash, "xxh3_64_intdigest", lambda b: calls.append(1) or real(b))
    ix.count(["dog"])
    open_index(built).matching_statistics("the lazy dog")  # another Index, same files
    assert calls == []


def test_damaged_checksums_file_is_refused_at_open(built) -> None:
    path = built / "shard-000" / "checksums.bin"
    clean = path.read_bytes()
    path.write_bytes(bytes([clean[0] ^ 1]) + clean[1:])
    with pytest.raises(IndexCorruptError, match=r"checksums\.bin fails its sha256"):
        open_index(built)
    path.write_bytes(clean)
    open_index(built)
    docs = built / "shard-000" / "docs.parquet"
    raw = bytearray(docs.read_bytes())
    raw[len(raw) // 2] ^= 1
    docs.write_bytes(bytes(raw))
    with pytest.raises(IndexCorruptError, match=r"docs\.parquet fails its sha256"):
        open_index(built)


def test_vocabulary_is_checked_at_open(built) -> None:
    vocab = built / "vocab.txt"
    vocab.write_text(vocab.read_text(encoding="utf-8").replace("fox", "fix"), encoding="utf-8")
    code, out = _cli("index", "count", str(built), "fox")
    assert code == 1 and "vocab.txt is missing or fails its sha256" in out
