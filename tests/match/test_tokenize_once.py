"""classify tokenizes every text once per run (outputs, prompts, continuations)."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from corpusmap.index.opening import open_index
from corpusmap.match.run import classify
from corpusmap.tokenizer.words import WordsTokenizer
from tests.conftest import build_from_docs

CORPUS = ["in the beginning god created the heaven and the earth"] * 3 + [
    "and the earth was without form and void"
]


def test_each_text_is_encoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ix = open_index(build_from_docs(tmp_path, CORPUS, tokenizer="words"))
    rows = [
        {"gen_id": str(k), "prompt": f"prompt number {k} in the beginning",
         "output": f"god created the heaven {k} and a zebra{k}",
         "continuation": f"the heaven and the earth {k}", "doc_id": 0}
        for k in range(6)
    ]  # fmt: skip
    dump = tmp_path / "g.jsonl"
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    seen: collections.Counter[str] = collections.Counter()
    real = WordsTokenizer.encode_batch

    def counting(self: WordsTokenizer, texts: list[str]) -> list:
        seen.update(texts)
        return real(self, texts)

    monkeypatch.setattr(WordsTokenizer, "encode_batch", counting)
    classify(dump, ix, tmp_path / "out", min_span=2, minhash=False,
             pattern_options={"min_generations": 2, "support": 2})  # fmt: skip
    for r in rows:
        for col in ("prompt", "output", "continuation"):
            assert seen[r[col]] == 1, (col, r[col], seen[r[col]])
