"""classify refuses generations it would misread: null/missing texts, non-text columns, bad files.

Regression tests for issue 11: a null output or a missing prompt column used to
become ``""`` and count in the rates; an integer output column was turned into
text; a bad behaviour file was reported only after ``generations/`` was written.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusmap.errors import InputError
from corpusmap.match import classify
from corpusmap.match.inputs import load_generations
from tests.conftest import build_from_docs


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ix")
    return build_from_docs(tmp, ["the quick brown fox jumps over the lazy dog"] * 3, minhash=False)


def test_null_output_is_refused_naming_the_row() -> None:
    t = pa.table({"prompt": ["a", "b", "c"], "output": ["x", None, None]})
    with pytest.raises(InputError, match=r"row 2 has no output .* 2 row\(s\) in all"):
        load_generations(t)


def test_null_prompt_is_refused() -> None:
    t = pa.table({"prompt": ["a", None], "output": ["x", "y"]})
    with pytest.raises(InputError, match="row 2 has no prompt"):
        load_generations(t)


def test_skip_leaves_rows_out_and_counts_them() -> None:
    t = pa.table({"prompt": ["a", None, "c", "d"], "output": ["x", "y", None, "w"]})
    skipped: dict[str, int] = {}
    got = load_generations(t, on_error="skip", skipped=skipped)
    assert got.column("output").to_pylist() == ["x", "w"]
    assert got.column("gen_id").to_pylist() == ["0", "1"]
    assert skipped == {"null_output": 1, "null_prompt": 1}


def test_missing_prompt_column_is_refused_unless_said() -> None:
    t = pa.table({"output": ["x", "y"]})
    with pytest.raises(InputError, match=r"no prompt column 'prompt'.*--prompt-field ''"):
        load_generations(t)
    assert load_generations(t, prompt_field="").column("prompt").to_pylist() == ["", ""]


@pytest.mark.parametrize("col", ["output", "prompt"])
def test_a_non_text_column_is_refused(col) -> None:
    t = pa.table({"prompt": ["a", "b"], "output": ["x", "y"]})
    t = t.set_column(t.column_names.index(col), col, pa.array([1, 2]))
    with pytest.raises(InputError, match=f"column '{col}' holds int64, not text"):
        load_generations(t)


def test_jsonl_record_without_output_is_refused(tmp_path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text('{"prompt": "a", "output": "x"}\n{"prompt": "b"}\n')
    with pytest.raises(InputError, match="row 2 has no output"):
        load_generations(path)


def test_classify_records_skips_in_the_manifest(tmp_path, ix) -> None:
    g = tmp_path / "g.parquet"
    pq.write_table(pa.table({"prompt": ["a", "b"], "output": ["the lazy dog", None]}), g)
    out = classify(g, ix, tmp_path / "r", on_error="skip", minhash=False, patterns=False)
    import json

    m = json.loads((out / "manifest.json").read_text())
    assert m["skipped"] == {"null_output": 1, "null_prompt": 0}
    assert m["plan"]["n_generations"] == 1


def test_bad_behaviour_file_is_refused_before_anything_is_written(tmp_path, ix) -> None:
    g = tmp_path / "g.parquet"
    pq.write_table(pa.table({"prompt": ["a"], "output": ["the lazy dog"]}), g)
    bad = tmp_path / "b.toml"
    bad.write_text("oops = [\n")
    with pytest.raises(InputError, match=r"b\.toml: invalid TOML"):
        classify(g, ix, tmp_path / "r", pattern_options={"behaviors": str(bad)}, minhash=False)
    assert not (tmp_path / "r").exists()


def test_classify_never_replaces_a_folder_it_did_not_write(tmp_path, ix) -> None:
    g = tmp_path / "g.parquet"
    pq.write_table(pa.table({"prompt": ["a"], "output": ["the lazy dog"]}), g)
    from corpusmap.errors import CorpusmapError

    with pytest.raises(CorpusmapError, match=r"another kind \(corpusmap-index\)"):
        classify(g, ix, ix, force=True, minhash=False, patterns=False)
    assert (ix / "manifest.json").is_file()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(CorpusmapError, match="holds files corpusmap did not write"):
        classify(g, ix, mine, force=True, minhash=False, patterns=False)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
