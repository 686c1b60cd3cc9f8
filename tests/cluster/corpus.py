"""Small corpora for the cluster tests, written as several JSONL files."""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "log", "and", "ran", "up", "hill"]


def write_corpus(folder: Path, files: int = 3, docs: int = 300, seed: int = 0) -> Path:
    """``files`` JSONL files of ``docs`` random-word documents each (1..60 words)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        with open(folder / f"c{f}.jsonl", "w", encoding="utf-8") as fh:
            for i in range(docs):
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 60)))
                fh.write(json.dumps({"text": text, "id": f"{f}-{i}"}) + "\n")
    return folder


def shard_sums(index: Path) -> list[dict]:
    """Each shard's name, range and file checksums, from the manifest."""
    m = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    return [
        {k: s[k] for k in ("name", "first_doc_id", "n_docs", "n_tokens", "files")}
        for s in m["shards"]
    ]
