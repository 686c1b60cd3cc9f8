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

Encoding and counting run in a compiled scanner (``words_kernel``) whose output
equals the regex's for every input; ``_encode_regex`` and ``_count_words_regex``
are kept as the references the tests compare against.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

from corpusmap.tokenizer.spec import TokenizerSpec, unknown_id, width_for

WORD_RE = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = set(",.;:!?%)]}'’”…")
_NO_SPACE_AFTER = set("([{‘“$#")
_ERRORS = "surrogatepass"  # a Python str may hold lone surrogates; the regex sees them too
_COUNT_BATCH_BYTES = 1 << 23
_ENCODE_BATCH_BYTES = 1 << 22  # per call: its scratch (16 MB) is reused, not faulted in anew


def split_words(text: str) -> list[str]:
    """The word/punctuation tokens of ``text`` in order."""
    return WORD_RE.findall(text)


def count_words(texts: Iterable[str]) -> Counter[str]:
    """Word frequencies over ``texts`` (pass one of a words-index build).

    Equal to ``_count_words_regex`` (same counts, same first-seen order), computed
    by the compiled scanner over batches of about 8 MB of text.
    """
    counts: Counter[str] = Counter()
    for batch in _utf8_batches(texts, _COUNT_BATCH_BYTES):
        _count_into(counts, batch)
    return counts


def _utf8_batches(texts: Iterable[str], limit: int) -> Iterator[list[bytes]]:
    """The texts UTF-8 encoded, grouped into lists of about ``limit`` bytes, in order."""
    batch: list[bytes] = []
    size = 0
    for text in texts:
        batch.append(text.encode("utf-8", _ERRORS))
        size += len(batch[-1])
        if size >= limit:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _count_into(counts: Counter[str], batch: list[bytes]) -> None:
    from corpusmap.tokenizer import words_kernel as K

    data = b"\n".join(batch)  # whitespace: never part of a token, so documents stay apart
    buf = np.frombuffer(data + K.PAD, np.uint8)
    start, end, n = K.count_tokens(buf, len(data), K.byte_classes(), K.char_classes())
    for a, b, c in zip(start.tolist(), end.tolist(), n.tolist(), strict=True):
        counts[data[a:b].decode("utf-8", _ERRORS)] += c


def _count_words_regex(texts: Iterable[str]) -> Counter[str]:
    """Reference for ``count_words``: ``WORD_RE.findall`` per text."""
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
        self._tables: tuple[np.ndarray, ...] | None = None

    def _lookup_tables(self) -> tuple[np.ndarray, ...]:
        """The kernels' tables, built on first use: byte and character classes, the
        vocabulary's hash table and the bytes of its words over 7 bytes."""
        if self._tables is None:
            from corpusmap.tokenizer import words_kernel as K

            words = [w.encode("utf-8", _ERRORS) for w in self.ids]
            voff = np.zeros(len(words) + 1, dtype=np.int64)
            np.cumsum([len(w) for w in words], out=voff[1:])
            vbytes = np.frombuffer(b"".join(words) + K.PAD, dtype=np.uint8)
            ids = np.fromiter(self.ids.values(), dtype=np.int64, count=len(words))
            table, longs = K.build_table(vbytes, voff, ids)
            self._tables = (K.byte_classes(), K.char_classes(), table, longs)
        return self._tables

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_tables": None}  # rebuilt on first use

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

    def covering(self, texts: Iterable[str]) -> WordsTokenizer:
        """This vocabulary extended by the words ``texts`` add (itself when none are new).

        New words are found without running the word regex over every token: a word
        never spans whitespace, so only the distinct whitespace-separated pieces the
        vocabulary lacks (e.g. ``word,`` or a new word) are split. They get ids in
        sorted order, so the same texts always give the same ids.
        """
        pieces: set[str] = set()
        for text in texts:
            pieces.update(text.split())
        words = {w for piece in pieces.difference(self.ids) for w in WORD_RE.findall(piece)}
        new = sorted(words.difference(self.ids))
        return self.extended(new) if new else self

    def encode(self, text: str) -> np.ndarray:
        """Ids of ``text``'s tokens (int64); same as ``_encode_regex``, compiled."""
        from corpusmap.tokenizer.words_kernel import PAD, encode_one

        data = text.encode("utf-8", _ERRORS)
        buf = np.frombuffer(data + PAD, dtype=np.uint8)
        return encode_one(buf, len(data), *self._lookup_tables(), self.unknown)  # type: ignore[call-arg]

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        """``[encode(t) for t in texts]``, documents encoded in parallel (numba threads).

        The arrays are views into one array per ~4 MB of text.
        """
        out: list[np.ndarray] = []
        for batch in _utf8_batches(texts, _ENCODE_BATCH_BYTES):
            out += self._encode_many(batch)
        return out

    def _encode_many(self, batch: list[bytes]) -> list[np.ndarray]:
        from corpusmap.tokenizer.words_kernel import PAD, encode_many

        doff = np.zeros(len(batch) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in batch], out=doff[1:])
        buf = np.frombuffer(b"".join([*batch, PAD]), dtype=np.uint8)
        ids, toff = encode_many(buf, doff, *self._lookup_tables(), self.unknown)  # type: ignore[call-arg]
        bounds = toff.tolist()
        return [ids[a:b] for a, b in pairwise(bounds)]

    def _encode_regex(self, text: str) -> np.ndarray:
        """Reference for ``encode``: ``WORD_RE.findall`` and dictionary lookups."""
        get, unk = self.ids.get, self.unknown
        return np.fromiter((get(w, unk) for w in WORD_RE.findall(text)), dtype=np.int64)

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
