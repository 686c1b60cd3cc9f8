"""Shared test helpers: build small indexes from documents made in the test."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("CORPUSMAP_PROGRESS", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def write_jsonl(path: Path, texts: list[str], **extra: list) -> Path:
    """One ``{"text": ...}`` record per text (plus any extra per-record fields)."""
    with open(path, "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            rec = {"text": t, **{k: v[i] for k, v in extra.items()}}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def build_from_docs(tmp: Path, docs: list, name: str = "idx", tokenizer: str | None = None, **kw):
    """Build an index over documents given as strings or token-id lists.

    Token-id documents are written as ``ids:N`` text ("3 1 4"), so the same reader
    and build path as real corpora is exercised.
    """
    from corpusmap.index.build import build_index

    if docs and not isinstance(docs[0], str):
        vocab = kw.pop("vocab", None) or (max((max(d) for d in docs if d), default=0) + 1)
        texts = [" ".join(map(str, d)) for d in docs]
        tokenizer = tokenizer or f"ids:{vocab}"
    else:
        texts = list(docs)
        tokenizer = tokenizer or "bytes"
    src = write_jsonl(tmp / f"{name}.jsonl", texts)
    kw.setdefault("workers", 1)
    kw.setdefault("minhash", False)
    return build_index(src, tmp / name, tokenizer=tokenizer, **kw)


@pytest.fixture
def tiny_corpus() -> list[str]:
    return [
        "the cat sat on the mat",
        "the dog sat on the log",
        "a cat and a dog",
        "the cat sat",
    ]
