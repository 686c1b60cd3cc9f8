"""``build_index`` from an Arrow table or documents equals the build from the same files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from corpusmap.errors import InputError
from corpusmap.index.build import build_index
from corpusmap.index.opening import open_index
from corpusmap.sources.document import Document
from tests.conftest import write_jsonl

TEXTS = ["the cat sat on the mat", "", "the dog sat on the log", "a cat and a dog"]


def _token_files(path: Path) -> list[str]:
    m = json.loads((path / "manifest.json").read_text())
    return [(r["files"]["tokens.bin"], r["files"]["sa.bin"]) for r in m["shards"]]


@pytest.mark.parametrize("tokenizer", ["bytes", "words"])
def test_table_build_equals_file_build(tmp_path: Path, tokenizer: str) -> None:
    src = write_jsonl(tmp_path / "c.jsonl", TEXTS)
    from_file = build_index(src, tmp_path / "file", tokenizer=tokenizer, workers=1, minhash=False)
    table = pa.table({"text": TEXTS, "lang": ["en"] * len(TEXTS)})
    from_table = build_index(table, tmp_path / "tab", tokenizer=tokenizer, workers=1,
                             minhash=False)  # fmt: skip
    assert _token_files(from_file) == _token_files(from_table)
    ix = open_index(from_table)
    assert ix.n_docs == 3  # the empty text is skipped and counted, as from a file
    assert ix.document_info(1)["row"] == 3 and ix.document_info(1)["meta"] == {"lang": "en"}
    assert ix.count("sat on the") == 2


def test_pretokenized_documents_and_resume(tmp_path: Path) -> None:
    ids = [[1, 2, 3], [], [2, 3, 4, 2, 3]]
    docs = [Document(text=None, source="<mine>", row=k + 1, tokens=np.array(x)) for k, x in
            enumerate(ids)]  # fmt: skip
    path = build_index(docs, tmp_path / "ix", tokenizer="ids:8", workers=1, minhash=False)
    ix = open_index(path)
    assert ix.n_docs == 2 and ix.count([2, 3]) == 3
    assert ix.document_tokens(1).tolist() == [2, 3, 4, 2, 3]
    again = build_index(iter(docs), tmp_path / "ix", tokenizer="ids:8", workers=1, minhash=False)
    assert again == path  # same content fingerprint: found finished, not rebuilt


def test_table_without_the_text_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no column 'text'"):
        build_index(pa.table({"body": ["x"]}), tmp_path / "ix", workers=1, minhash=False)
