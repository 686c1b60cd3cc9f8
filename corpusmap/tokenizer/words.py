"""The ``words`` tokenizer: Unicode words and single punctuation marks.

This is the unit readable pattern lists and RAVEN-style n-gram novelty need: a
token is a run of word characters (with inner apostrophes, "don't") or one
punctuation mark; whitespace is dropped. The vocabulary is learnt from the corpus
in a first pass over it (ids ordered by frequency, most frequent first) and stored
in the index as ``vocab.txt``, one word per line, id = line number.

A word the vocabulary lacks encodes to ``unknown_id`` of the index width, an id no
corpus token has, so it matches nothing. What it leaves out: casing is kept as is
(no normalisation), and decoding re-spaces tokens with a simple rule (no space
before closing punctuation, none after opening), so original whitespace is lost.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from corpusmap.tokenizer.spec import TokenizerSpec, unknown_id, width_for

WORD_RE = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = set(",.;:!?%)]}'’”…")
_NO_SPACE_AFTER = set("([{‘“$#")


def split_words(text: str) -> list[str]:
    """The word/punctuation tokens of ``text`` in order."""
    return WORD_RE.findall(text)


def count_words(texts: Iterable[str]) -> Counter[str]:
    """Word frequencies over ``texts`` (pass one of a words-index build)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(WORD_RE.findall(text))
    return counts


class WordsTokenizer:
    """Word-level tokenizer over a fixed vocabulary (list index = token id)."""

    def __init__(self, vocab: Sequence[str], name: str = "words") -> None:
        self.vocab = list(vocab)
        self.ids = {w: i for i, w in enumerate(self.vocab)}
        digest = hashlib.sha256("\n".join(self.vocab).encode("utf-8")).hexdigest()
        self.spec = TokenizerSpec(
            kind="words", name=name, vocab_size=len(self.vocab), vocab_hash=digest, file="vocab.txt"
        )
        self.unknown = unknown_id(width_for(max(len(self.vocab), 1)))

    @classmethod
    def from_counts(cls, counts: Counter[str]) -> WordsTokenizer:
        """Vocabulary ordered by frequency (ties: alphabetical), so ids are stable."""
        return cls([w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))])

    @classmethod
    def load(cls, path: str | Path) -> WordsTokenizer:
        text = Path(path).read_text(encoding="utf-8")
        return cls(text.split("\n") if text else [])

    def save(self, path: str | Path) -> None:
        Path(path).write_text("\n".join(self.vocab), encoding="utf-8")

    def extended(self, words: Iterable[str]) -> WordsTokenizer:
        """This vocabulary plus new words appended (old ids unchanged).

        An index over generations uses it so words the corpus never had still get
        ids of their own there; against the corpus index they are unknown.
        """
        new = [w for w in dict.fromkeys(words) if w not in self.ids]
        return WordsTokenizer(self.vocab + new, name=self.spec.name)

    def encode(self, text: str) -> np.ndarray:
        get, unk = self.ids.get, self.unknown
        return np.fromiter((get(w, unk) for w in WORD_RE.findall(text)), dtype=np.int64)

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [self.encode(t) for t in texts]

    def token_strings(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        n = len(self.vocab)
        return [self.vocab[i] if 0 <= i < n else "<unk>" for i in (int(x) for x in ids)]

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        out: list[str] = []
        for word in self.token_strings(ids):
            if out and word[0] not in _NO_SPACE_BEFORE and out[-1][-1] not in _NO_SPACE_AFTER:
                out.append(" ")
            out.append(word)
        return "".join(out)
