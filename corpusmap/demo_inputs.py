"""What the demo feeds the pipeline: its prompt kinds, its questions and its behaviours.

Each prompt kind is there to bring out one part of the map on a small model:

* ``sampled`` (ids ``p…``): positions sampled uniformly from the whole corpus,
  with their true continuations (extraction, the human baseline, shared text);
* ``bible`` (``b…``, twice as many): positions in the King James Bible only; the
  model writes on in its own modern English (``said, "`` where the KJV has no
  quotation marks, ``the Holy Spirit`` for ``the Holy Ghost``, ``the Lord`` for
  ``the LORD``): contingent and unexpressed patterns;
* ``repeated`` (``r…``): positions whose prompt + continuation the corpus holds
  at least twice (few spans of 48 words repeat here, so there are often fewer);
* ``opening`` (``f…``): the first words of well-known chapters (Genesis 1,
  Psalm 23, John 1...). Each occurs once in this corpus; they are well known on
  the web, which a model's training data is made of;
* ``question`` (``q…``): instruction-style questions put through the model's
  chat template, where its own phrasing shows (idiosyncratic patterns);
* ``sweep`` (``f…~kind@rate``): the chapter openings perturbed by two noise kinds
  at two rates; the clean openings are the rate-0 points.

What it leaves out: running anything (``corpusmap.demo`` does).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from corpusmap.errors import CorpusmapError
from corpusmap.index.index import Index
from corpusmap.prompts import make_prompts, sweep

FAMOUS = ["Genesis 1", "Exodus 20", "Psalms 23", "Ecclesiastes 3", "Matthew 6", "John 1",
          "1 Corinthians 13"]  # fmt: skip
SWEEP_KINDS = ("char-swap", "case")
SWEEP_RATES = (0.0, 0.05, 0.2)
QUESTIONS = [
    "What is the capital of France?", "Explain photosynthesis in simple terms.",
    "Who wrote Hamlet?", "Give me three tips for better sleep.", "What is a black hole?",
    "How do I make a cup of tea?", "Summarize the story of Noah's ark.",
    "Why is the sky blue?", "What is machine learning?", "Who was Moses?",
    "What is Wikipedia?", "Tell me about the Roman Empire.", "What causes earthquakes?",
    "How does the heart work?", "What is the Bible?", "Why do leaves change colour in autumn?",
    "What is democracy?", "Explain gravity to a child.", "What is the Internet?",
    "Who was Albert Einstein?", "What is climate change?", "How do vaccines work?",
    "What is the Pythagorean theorem?", "Tell me about the Great Wall of China.",
    "What is the Holy Spirit?", "Who was King David?", "What are the Ten Commandments?",
    "Tell me the story of Jonah.", "Who was the apostle Paul?", "What is the Lord's Prayer?",
    "What is a psalm?", "Who was Abraham?", "What is the theory of evolution?",
    "How do airplanes fly?", "What is the stock market?", "Who painted the Mona Lisa?",
    "What is the speed of light?", "How do bees make honey?", "What is a volcano?",
    "Why do we dream?",
]  # fmt: skip
KIND_OF_PREFIX = {"p": "sampled", "b": "bible", "r": "repeated", "f": "opening", "q": "question"}
BEHAVIORS = """\
# Behaviours of the demo: each maps a text to a count; classify scores them on the
# corpus and the generations, and measures the mutual information (bits) between a
# behaviour in the prompt and in the output.
[[behaviors]]
name = "quotation marks"
description = "Straight or curly double quotes; the KJV has none."
regex = '["\\u201c\\u201d]'

[[behaviors]]
name = "archaic verb forms"
description = "hath, doth, saith and -eth/-est verbs, the KJV's English."
regex = '\\b(hath|doth|saith|\\w+eth|\\w+est)\\b'
flags = "i"

[[behaviors]]
name = "thou, thee, thy"
description = "Second-person archaic pronouns, counted by a Python function."
function = "corpusmap.demo_inputs:archaic_pronouns"
"""
_PRONOUNS = re.compile(r"\b(thou|thee|thy|thine|ye)\b", re.IGNORECASE)


def archaic_pronouns(text: str) -> int:
    """How many archaic second-person pronouns (thou, thee, thy, thine, ye) a text holds."""
    return len(_PRONOUNS.findall(text))


def prompt_kind(prompt_id: str) -> str:
    """The demo kind of a prompt id (``sweep`` for perturbed rows)."""
    return "sweep" if "~" in prompt_id else KIND_OF_PREFIX.get(prompt_id[:1], "other")


def chapter_openings(ix: Index, ids: list[str], prefix: int, continuation: int) -> pa.Table:
    """Prompts at the start of the documents with these ids (same columns as make_prompts)."""
    docs = pa.concat_tables([s.docs.select(["doc_id", "id"]) for s in ix.shards]).to_pylist()
    by_id = {d["id"]: d["doc_id"] for d in docs}
    rows = []
    for k, name in enumerate(i for i in ids if i in by_id):
        toks = ix.document_tokens(by_id[name])[: prefix + continuation]
        prompt = ix.tokenizer.decode(toks[:prefix])
        rows.append(
            {
                "prompt_id": f"f{k:06d}",
                "prompt": prompt,
                "continuation": ix.tokenizer.decode(toks[prefix:]),
                "doc_id": by_id[name],
                "offset": 0,
                "index_prompt_ids": toks[:prefix].tolist(),
                "index_continuation_ids": toks[prefix:].tolist(),
                "corpus_count": ix.count(toks),
                "original_prompt": prompt,
            }
        )
    return pa.Table.from_pylist(rows)


def _renamed(table: pa.Table, prefix: str) -> pa.Table:
    ids = [f"{prefix}{i:06d}" for i in range(table.num_rows)]
    return table.set_column(table.column_names.index("prompt_id"), "prompt_id", pa.array(ids))


def corpus_prompts(
    ix: Index, n: int, prefix: int, continuation: int
) -> tuple[pa.Table, dict[str, int]]:
    """Every corpus-side prompt of the demo (one table) and how many of each kind it holds."""
    kw: dict[str, Any] = {"prefix_tokens": prefix, "continuation_tokens": continuation}
    parts = [make_prompts(ix, n, seed=0, **kw)]
    # twice as many Bible prompts: contingent patterns need the same trigger in several
    # generations, and the Bible is where the model's continuations part from the corpus
    parts.append(_renamed(make_prompts(ix, 2 * n, seed=1, sources=["embedded:kjv"], **kw), "b"))
    try:
        repeated = make_prompts(ix, n, seed=2, from_duplicated=True, **kw)
        parts.append(_renamed(repeated, "r"))
    except CorpusmapError:  # no sampled span repeats: the kind is empty, and says so
        pass
    openings = chapter_openings(ix, FAMOUS, prefix, continuation)
    parts.append(sweep(openings, SWEEP_KINDS, SWEEP_RATES))
    schema = parts[-1].schema
    table = pa.concat_tables([p.select(schema.names).cast(schema) for p in parts])
    kinds = [prompt_kind(i) for i in table.column("prompt_id").to_pylist()]
    table = table.append_column("prompt_kind", pa.array(kinds))
    counts = {k: kinds.count(k) for k in ("sampled", "bible", "repeated", "opening", "sweep")}
    return table, counts


def question_prompts(n: int) -> pa.Table:
    """The first ``n`` demo questions (at most ``len(QUESTIONS)``), for the chat template."""
    qs = QUESTIONS[:n]
    return pa.table(
        {
            "prompt_id": [f"q{i:06d}" for i in range(len(qs))],
            "prompt": qs,
            "prompt_kind": ["question"] * len(qs),
        }
    )


def write_behaviors(out: Path) -> Path:
    """The demo's behaviours file (TOML) in ``out``."""
    path = out / "behaviors.toml"
    if not path.is_file() or path.read_text(encoding="utf-8") != BEHAVIORS:
        path.write_text(BEHAVIORS, encoding="utf-8")
    return path
