"""``demo``: the pipeline on the embedded default corpus, end to end, offline.

Today it indexes the embedded corpus (King James Bible + Wikipedia leads), then
asks the index the questions the later stages ask at scale: how often n-grams
occur, where, what follows a context, and how much of a text is in the corpus.
The generation and classification stages are added to it as they land.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from corpusmap.index.build import build_index
from corpusmap.index.index import open_index

QUERIES = ["In the beginning", "the Roman Empire", "And God said", "quantum chromodynamics"]
PASSAGE = "And God said, Let there be light: and there was a great city in the north of Italy."


def demo(out: str | os.PathLike = "demo", tokenizer: str = "bytes") -> dict[str, Any]:
    """Build ``OUT/index`` over the embedded corpus and answer sample queries."""
    out = Path(out)
    idx_path = build_index("embedded", out / "index", tokenizer=tokenizer)
    ix = open_index(idx_path)
    counts = dict(zip(QUERIES, ix.count(QUERIES), strict=True))  # type: ignore[arg-type]
    lm = ix.longest_match(PASSAGE)
    return {
        "index": str(idx_path),
        "n_docs": ix.n_docs,
        "n_tokens": ix.n_tokens,
        "counts": counts,
        "locate": ix.locate("And God said", limit=3),
        "ntd": ix.ntd("In the beginning", limit=5),
        "longest_match": {
            **lm,
            "text": PASSAGE.encode()[lm["start"] : lm["start"] + lm["length"]].decode(
                "utf-8", "replace"
            ),
        },  # type: ignore[index]
    }
