"""The compiled ``words`` tokenizer against its regex reference, on awkward Unicode."""

from __future__ import annotations

import pickle
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpusmap.tokenizer import words as W
from corpusmap.tokenizer import words_kernel as K
from corpusmap.tokenizer.words import WordsTokenizer, _count_words_regex, count_words

SPECIAL = [
    *"abcXYZ019_'’ ,.!?-—()\"‘“”…$#%",
    *"\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u3000\ufeff\u200b",
    *"é\u0301\u0308ßİıﬁ²½Ⅻ٣日本語テキ한글🎉😀\U0001f1e9\u05d0\u05d1\u0627\u0644\u064b",
    "\x00",
    "\ud800",
    "\udfff",  # lone surrogates: legal in a Python str, and the regex sees them
    "don't",
    "l’été",
    "rock'n'roll",
    "ab''cd",
    "x’’y",
    "internationalisation",
    "internationalization",
    "abcdefgh",
    "abcdefgi",
    "abcdefg",
    "a" * 300,
]
chars = st.one_of(st.sampled_from(SPECIAL), st.characters(), st.characters(max_codepoint=0x7F))
texts = st.lists(chars, max_size=80).map("".join)


def _storable(word: str) -> bool:
    return not any("\ud800" <= ch <= "\udfff" for ch in word)  # a vocabulary is UTF-8


def _tokenizer_from(sample: list[str], extra: list[str]) -> WordsTokenizer:
    """A vocabulary learnt from ``sample`` plus ``extra`` (so there are known and unknown words)."""
    counts = _count_words_regex(sample)
    tok = WordsTokenizer.from_counts(Counter({w: c for w, c in counts.items() if _storable(w)}))
    return tok.extended(w for w in extra if _storable(w))


@settings(max_examples=400, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6), st.lists(st.sampled_from(SPECIAL), max_size=8))
def test_fast_encode_equals_regex(docs: list[str], extra: list[str]) -> None:
    tok = _tokenizer_from(docs[: len(docs) // 2 + 1][:-1] or docs[:1], extra)
    batch = tok.encode_batch(docs)
    assert len(batch) == len(docs)
    for text, ids in zip(docs, batch, strict=True):
        ref = tok._encode_regex(text)
        one = tok.encode(text)
        assert one.dtype == np.int64 and ids.dtype == np.int64
        assert one.tolist() == ref.tolist() == ids.tolist(), text
    assert count_words(docs) == _count_words_regex(docs)
    assert list(count_words(docs)) == list(_count_words_regex(docs))  # first-seen order too


@settings(max_examples=200, deadline=None)
@given(texts)
def test_tokens_match_findall(text: str) -> None:
    """Every token is found (each one its own vocabulary entry), in order."""
    words = W.WORD_RE.findall(text)
    tok = WordsTokenizer([w for w in dict.fromkeys(words) if _storable(w)])
    assert tok.token_strings(tok.encode(text)) == [w if _storable(w) else "<unk>" for w in words]


def test_class_table_is_re() -> None:
    """``char_classes`` agrees with ``re`` for every code point, and ``\\w``/``\\s`` are
    ``isalnum() or '_'`` and ``isspace()``."""
    cls = K.char_classes()
    word, space = re.compile(r"\w"), re.compile(r"\s")
    for cp in range(0x110000):
        ch = chr(cp)
        is_word, is_space = word.match(ch) is not None, space.match(ch) is not None
        assert is_word == (ch.isalnum() or ch == "_"), hex(cp)
        assert is_space == ch.isspace(), hex(cp)
        assert cls[cp] == (K.WORD if is_word else K.SPACE if is_space else K.OTHER), hex(cp)
    asc = K.byte_classes()
    assert (asc[:128] == cls[:128]).all() and (asc[128:] == K.WIDE).all()


def test_empty_inputs() -> None:
    tok = WordsTokenizer(["a"])
    assert tok.encode("").dtype == np.int64 and tok.encode("").tolist() == []
    assert tok.encode(" \n\u2028 ").tolist() == []
    assert tok.encode_batch([]) == []
    assert [a.tolist() for a in tok.encode_batch(["", "a", "", "  "])] == [[], [0], [], []]
    assert count_words([]) == count_words([""]) == _count_words_regex([""])
    empty = WordsTokenizer([])
    assert empty.encode("a b").tolist() == [empty.unknown] * 2


def test_vocabulary_oddities() -> None:
    """Duplicates (the dict's last id wins), entries no token can be, long and similar words."""
    long = "x" * 256
    vocab = ["b", "a", "b", "", "a b", "abcdefgh", "abcdefgi", "abcdefg", long, long[:-1], "日本"]
    tok = WordsTokenizer(vocab)
    text = f"a b abcdefgh abcdefgi abcdefg abcdefgj {long} {long[:-1]} {long}x 日本 日"
    assert tok.encode(text).tolist() == tok._encode_regex(text).tolist()
    assert tok.encode("b").tolist() == [2]
    copy = pickle.loads(pickle.dumps(tok))  # without its tables, rebuilt on first use
    assert copy._tables is None and copy.encode(text).tolist() == tok.encode(text).tolist()
    ext = tok.extended(["zebra", "a"])
    assert ext.encode("zebra a").tolist() == [len(vocab), 1]
    assert tok.encode("zebra").tolist() == [tok.unknown]


EDGES = ["a’b", "a'b", "a’", "a'", "’a", "'a", "a’’b", "a''b", "a’b’c", "a'’b", "é’é", "日’日"]
EDGES += ["a’é", "a’\u0301", "\u0301’a", "_’_", "1'2", "a’ b", "a ’b", "a’,", "’", "'", "a’\x00"]


def test_apostrophes_at_the_edges() -> None:
    """Apostrophes at the end or start of a document, before multi-byte characters."""
    docs = EDGES + [" ".join(EDGES), "".join(EDGES)] + [e + e for e in EDGES]
    tok = _tokenizer_from(docs[::2], [])
    for text, ids in zip(docs, tok.encode_batch(docs), strict=True):
        assert tok.encode(text).tolist() == ids.tolist() == tok._encode_regex(text).tolist(), text
    assert count_words(docs) == _count_words_regex(docs)


def test_long_tokens_with_equal_keys() -> None:
    """Tokens over 255 bytes with the same first 7 bytes differ only in their tails."""
    docs = [f"{'x' * 300} {'x' * 256} {'x' * 256}y {'x' * 256} {'x' * 299}y", "x" * 256]
    assert count_words(docs) == _count_words_regex(docs)
    tok = WordsTokenizer(["x" * 300, "x" * 256 + "y"])
    assert tok.encode(docs[0]).tolist() == tok._encode_regex(docs[0]).tolist()
    # two such tokens, one a prefix of the other, in the same home slot of the count table
    buf = np.frombuffer(b"x" * 3000 + K.PAD, np.uint8)
    key, shift = K._key(buf, 0, 255), K._shift(1024)
    homes: dict[int, int] = {}
    for n in range(255, 3000):
        other = homes.setdefault(K._home(buf, 0, n, key, shift), n)
        if other != n:
            break
    docs = [f"{'x' * n} {'x' * other} {'x' * n}"]
    assert count_words(docs) == _count_words_regex(docs) == Counter({"x" * n: 2, "x" * other: 1})
    # the same in a vocabulary's table (16 slots for one word)
    homes, shift = {}, K._shift(16)
    for n in range(255, 3000):
        other = homes.setdefault(K._home(buf, 0, n, key, shift), n)
        if other != n:
            break
    for word, token in (("x" * n, "x" * other), ("x" * other, "x" * n)):
        tok = WordsTokenizer([word])
        assert tok.encode(f"{token} {word}").tolist() == [tok.unknown, 0]


def test_batches_split_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [f"doc {i} " + "word’s " * i for i in range(50)]
    tok = _tokenizer_from(docs[:10], [])
    whole = [a.tolist() for a in tok.encode_batch(docs)]
    monkeypatch.setattr(W, "_ENCODE_BATCH_BYTES", 100)
    monkeypatch.setattr(W, "_COUNT_BATCH_BYTES", 100)
    assert [a.tolist() for a in tok.encode_batch(docs)] == whole
    assert whole == [tok._encode_regex(d).tolist() for d in docs]
    assert count_words(iter(docs)) == _count_words_regex(docs)


def test_documents_stay_apart() -> None:
    """A token never runs across a document boundary, in batches or in counting."""
    docs = ["don", "'t", "l", "’été", "a’", "b", "x\u0301", "\u0301y"]
    tok = _tokenizer_from(docs, ["don't", "l’été"])
    assert [a.tolist() for a in tok.encode_batch(docs)] == [
        tok._encode_regex(d).tolist() for d in docs
    ]
    assert count_words(docs) == _count_words_regex(docs)


def test_many_distinct_words_grow_the_count_table() -> None:
    docs = [" ".join(f"w{i}_{j}" for j in range(300)) + " ’ ’" for i in range(40)]
    assert count_words(docs) == _count_words_regex(docs)
    tok = WordsTokenizer.from_counts(count_words(docs[:20]))
    assert all(
        a.tolist() == tok._encode_regex(d).tolist()
        for a, d in zip(tok.encode_batch(docs), docs, strict=True)
    )
