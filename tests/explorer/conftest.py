"""A small real results folder for the explorer tests: index, hostile dump, classify.

The corpus is a few documents indexed with the ``words`` tokenizer; the dump has
generations that copy corpus text (one from a corpus-sampled prompt with its
true continuation), one that copies its own prompt, and hostile ones whose
prompt or output carries markup (``<script>``, an ``onerror`` attribute break-out).
Everything is made once per test session (classify takes a few seconds).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CORPUS = [
    "In the beginning God created the heaven and the earth. And the earth was without "
    "form, and void; and darkness was upon the face of the deep.",
    "The quick brown fox jumps over the lazy dog while the farmer sleeps in the warm sun "
    "and the cows walk home across the green field.",
    "The quick brown fox jumps over the lazy dog again, said the teacher to the class of "
    "children learning their letters on a rainy morning.",
    "Paris is the capital and most populous city of France, with an estimated population "
    "of two million residents in the city proper.",
    "<b>Markup</b> in a corpus document & an ampersand must be shown as text, not markup.",
] + [
    f"Filler document number {k} talks about rivers, hills and the weather today."
    for k in range(12)
]

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'

GENERATIONS = [
    {  # a corpus-sampled prompt that the model continues word for word
        "gen_id": "g-copy",
        "prompt": "In the beginning God created the heaven",
        "output": "and the earth. And the earth was without form, and void; and darkness was",
        "continuation": "and the earth. And the earth was without form, and void; and darkness",
        "doc_id": 0,
        "model": "model-a",
    },
    {  # copies text two corpus documents share, and repeats part of its prompt
        "gen_id": "g-fox",
        "prompt": "Tell me about the lazy dog and the quick brown fox",
        "output": "The quick brown fox jumps over the lazy dog while the farmer sleeps in the sun.",
        "model": "model-a",
    },
    {  # copies a corpus sentence that its prompt already holds: a prompt copy
        "gen_id": "g-echo",
        "prompt": "Repeat after me: Paris is the capital and most populous city of France",
        "output": "Paris is the capital and most populous city of France. Done",
        "model": "model-a",
    },
    {
        "gen_id": "g-script",
        "prompt": f"Say {SCRIPT}",
        "output": f"Sure: {SCRIPT} Paris is the capital and most populous city of France",
        "model": "model-a",
    },
    {
        "gen_id": "g-img",
        "prompt": f"Attribute {IMG}",
        "output": f"{IMG} the capital and most populous city of France, with an estimated",
        "model": "model-a",
    },
    {
        "gen_id": "g-novel",
        "prompt": "Write something new",
        "output": "Zebras juggle turquoise umbrellas beneath crystalline waterfalls quietly.",
        "model": "model-a",
    },
] + [
    {
        "gen_id": f"g-{k:03d}",
        "prompt": f"Filler prompt {k}",
        "output": f"Filler document number {k} talks about rivers and mountains {k}.",
        "model": "model-a",
    }
    for k in range(20)
]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Paths of the index, the dump and the results folder (classify with patterns)."""
    from corpusmap import build_index, classify

    root = tmp_path_factory.mktemp("explorer")
    docs = _jsonl(root / "corpus.jsonl", [{"id": f"d{k}", "text": t} for k, t in enumerate(CORPUS)])
    index = build_index(docs, root / "index", tokenizer="words", id_field="id", workers=1)
    dump = _jsonl(root / "generations.jsonl", GENERATIONS)
    results = classify(dump, index, root / "results", min_span=4, shard_rows=10)
    return {"index": Path(index), "dump": dump, "results": Path(results), "root": root}


def words(text: str) -> list[str]:
    """The words tokenizer's tokens of a text (its regex, the reference it is tested against)."""
    from corpusmap.tokenizer.words import WORD_RE

    return WORD_RE.findall(text)


def naive_occurrences(needle: list[str]) -> list[tuple[int, int]]:
    """(document number, token offset) of every occurrence of ``needle`` in CORPUS."""
    out = []
    for d, text in enumerate(CORPUS):
        toks = words(text)
        for i in range(len(toks) - len(needle) + 1):
            if toks[i : i + len(needle)] == needle:
                out.append((d, i))
    return out
