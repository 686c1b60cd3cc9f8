"""Reading prompt sets: formats, ids, extra columns and errors that name file:line."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusmap.errors import InputError
from corpusmap.generation.prompts_file import read_prompts
from tests.generation.tiny import write_jsonl


def test_jsonl_ids_and_extras(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"prompt": "a cat", "doc_id": 3, "continuation": "sat"}\n'
        "\n"  # blank line: skipped, but counted for the default id
        '{"prompt": "a dog", "continuation": "ran"}\n'
        '{"prompt": "x", "id": "custom", "doc_id": 4}\n'
    )
    ps = read_prompts(path)
    assert ps.ids == ["0", "2", "custom"]  # 0-based line numbers unless an id is given
    assert ps.texts == ["a cat", "a dog", "x"]
    assert ps.extras.column_names == ["doc_id", "continuation"]
    assert ps.extras.column("doc_id").to_pylist() == [3, None, 4]
    assert ps.extras.schema.field("doc_id").type == pa.int64()


def test_text_file_and_lists(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("first prompt\n\nthird line\r\n")
    ps = read_prompts(path)
    assert (ps.ids, ps.texts) == (["0", "2"], ["first prompt", "third line"])
    ps = read_prompts(["a", "b"])
    assert (ps.ids, ps.texts, ps.extras.num_columns) == (["0", "1"], ["a", "b"], 0)
    ps = read_prompts([{"text": "a", "key": 7, "m": 1.5}], prompt_field="text", id_field="key")
    assert (ps.ids, ps.texts, ps.extras.column_names) == (["7"], ["a"], ["m"])


def test_parquet_keeps_arrow_types(tmp_path):
    table = pa.table({"prompt": ["a", "b"], "offset": pa.array([1, 2], pa.uint32())})
    pq.write_table(table, tmp_path / "p.parquet")
    ps = read_prompts(tmp_path / "p.parquet")
    assert ps.ids == ["0", "1"]
    assert ps.extras.schema.field("offset").type == pa.uint32()


@pytest.mark.parametrize(
    ("content", "where", "what"),
    [
        ('{"prompt": "ok"}\n{"prompt": "ok"}\n{"prompt": oops}\n', "p.jsonl:3:", "malformed JSON"),
        ('{"prompt": "ok"}\n{"text": "no prompt"}\n', "p.jsonl:2", "missing 'prompt' field"),
        ('{"prompt": 5}\n', "p.jsonl:1", "must be a string"),
        ('["a list"]\n', "p.jsonl:1", "expected a JSON object"),
        ('{"prompt": "a", "id": 1}\n{"prompt": "b", "id": 1}\n', "p.jsonl:2", "duplicate id '1'"),
        ('{"prompt": "a", "seed": 1}\n', "p.jsonl", "clash with generation output columns"),
        ("", "p.jsonl", "no prompts"),
    ],
)
def test_bad_jsonl_names_file_and_line(tmp_path, content, where, what):
    path = tmp_path / "p.jsonl"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        read_prompts(path)
    assert str(info.value).startswith(str(tmp_path / where))
    assert what in str(info.value)


def test_bad_inputs_of_other_kinds(tmp_path):
    pq.write_table(pa.table({"text": ["a"]}), tmp_path / "p.parquet")
    with pytest.raises(InputError, match=r"p\.parquet: no 'prompt' column"):
        read_prompts(tmp_path / "p.parquet")
    pq.write_table(pa.table({"prompt": ["a", None]}), tmp_path / "n.parquet")
    with pytest.raises(InputError, match=r"n\.parquet:2: row 2"):
        read_prompts(tmp_path / "n.parquet")
    (tmp_path / "p.csv").write_text("prompt\na\n")
    with pytest.raises(InputError, match="unsupported prompt file type"):
        read_prompts(tmp_path / "p.csv")
    with pytest.raises(InputError, match="not found"):
        read_prompts(tmp_path / "missing.jsonl")
    write_jsonl(tmp_path / "m.jsonl", [{"prompt": "a", "x": 1}, {"prompt": "b", "x": "s"}])
    with pytest.raises(InputError, match="'x' mixes value types"):
        read_prompts(tmp_path / "m.jsonl")
    with pytest.raises(InputError, match="item 1: missing 'prompt'"):
        read_prompts([{"prompt": "a"}, {"text": "b"}])


def _compressed(path, data: bytes):
    import gzip

    import zstandard

    if path.suffix == ".gz":
        data = gzip.compress(data)
    elif path.suffix == ".zst":
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


JSONL = (
    b'{"prompt": "a cat", "doc_id": 3}\n'
    b"\n"
    b'{"prompt": "a dog", "id": "d", "doc_id": 4}\n'
    b'{"prompt": "x", "continuation": "y"}\n'
)


@pytest.mark.parametrize(
    ("plain", "packed"),
    [("p.jsonl", "p.jsonl.zst"), ("p.jsonl", "p.jsonl.gz"), ("p.txt", "p.txt.zst")],
)
def test_compressed_prompt_files_read_like_plain_ones(tmp_path, plain, packed):
    data = JSONL if plain.endswith(".jsonl") else b"first\n\nthird\r\n"
    a = read_prompts(_compressed(tmp_path / plain, data))
    b = read_prompts(_compressed(tmp_path / packed, data))
    assert (b.ids, b.texts) == (a.ids, a.texts) and len(a) == 3 - plain.endswith(".txt")
    assert b.extras.equals(a.extras)


def test_arrow_prompt_set(tmp_path):
    import pyarrow.ipc as ipc

    table = pa.table({"prompt": ["a", "b"], "id": [7, 8], "offset": pa.array([1, 2], pa.uint32())})
    with ipc.new_stream(tmp_path / "p.arrow", table.schema) as w:
        w.write_table(table)
    ps = read_prompts(tmp_path / "p.arrow")
    assert (ps.ids, ps.texts, ps.extras.schema.field("offset").type) == (
        ["7", "8"],
        ["a", "b"],
        pa.uint32(),
    )


def test_truncated_zst_prompt_file_is_one_clear_error(tmp_path):
    from corpusmap.errors import CorpusmapError

    lines = b"".join(b'{"prompt": "prompt number %d"}\n' % i for i in range(5000))
    whole = _compressed(tmp_path / "w.jsonl.zst", lines).read_bytes()
    cut = tmp_path / "p.jsonl.zst"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(CorpusmapError) as info:
        read_prompts(cut)
    message = str(info.value)
    assert message.startswith(f"{cut}: could not decompress after line ")
    assert "truncated or corrupt" in message and "\n" not in message


def test_generate_reads_prompts_from_jsonl_zst(tiny_model, tmp_path):
    from corpusmap.generation import generate
    from tests.generation.tiny import PROMPTS, assert_same_rows, rows_by_id

    records = [{"id": f"p{i}", "prompt": p, "doc_id": i} for i, p in enumerate(PROMPTS)]
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    kw = {"max_new_tokens": 6, "num_samples": 2, "temperature": 0.8, "batch_size": 3}
    plain = generate(tiny_model, _compressed(tmp_path / "p.jsonl", data), tmp_path / "a", **kw)
    packed = generate(tiny_model, _compressed(tmp_path / "p.jsonl.zst", data), tmp_path / "b", **kw)
    a, b = rows_by_id(plain.to_arrow()), rows_by_id(packed.to_arrow())
    assert len(b) == 2 * len(PROMPTS) and {r["doc_id"] for r in b.values()} == set(range(7))
    assert_same_rows(a, b)
