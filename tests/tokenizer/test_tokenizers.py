"""Tokenizers: round trips, vocabularies, specs, worker encoding."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpusmap.errors import CorpusmapError
from corpusmap.tokenizer import load_from_index, resolve_tokenizer, save_to_index
from corpusmap.tokenizer.parallel import encode_batches
from corpusmap.tokenizer.simple import BytesTokenizer
from corpusmap.tokenizer.spec import separator_id, unknown_id, width_for
from corpusmap.tokenizer.words import WordsTokenizer, count_words, split_words


@given(st.text())
def test_bytes_round_trip_and_reserved_ids(text: str) -> None:
    tok = BytesTokenizer()
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert not np.isin(ids, [0xFE, 0xFF]).any()  # never valid UTF-8 bytes


def test_widths_leave_two_reserved_ids() -> None:
    assert width_for(254) == "u8" and width_for(255) == "u16"
    assert width_for(65534) == "u16" and width_for(65535) == "u32"
    assert (separator_id("u16"), unknown_id("u16")) == (65535, 65534)


def test_words_split_and_vocabulary_by_frequency() -> None:
    assert split_words("Don't stop—now, 3.5 times!") == [
        "Don't",
        "stop",
        "—",
        "now",
        ",",
        "3",
        ".",
        "5",
        "times",
        "!",
    ]
    tok = WordsTokenizer.from_counts(count_words(["b a b", "c b a"]))
    assert tok.vocab == ["b", "a", "c"]
    assert tok.encode("a b zebra").tolist() == [1, 0, tok.unknown]
    assert tok.unknown == unknown_id("u8")
    punct = WordsTokenizer.from_counts(count_words(["b , a ( c )"]))
    assert punct.decode(punct.encode("b , a ( c )")) == "b, a (c)"


def test_words_extended_keeps_old_ids() -> None:
    tok = WordsTokenizer(["x", "y"])
    ext = tok.extended(["z", "x", "w"])
    assert ext.vocab == ["x", "y", "z", "w"]
    assert ext.encode("x y z").tolist() == [0, 1, 2]
    assert ext.spec.vocab_hash != tok.spec.vocab_hash


def test_ids_tokenizer_checks_range() -> None:
    tok = resolve_tokenizer("ids:10")
    assert tok is not None and tok.encode("1 2 9").tolist() == [1, 2, 9]
    with pytest.raises(CorpusmapError, match="out of range"):
        tok.encode("10")
    with pytest.raises(CorpusmapError, match="integers"):
        tok.encode("one")


def _trained_bpe(tmp_path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=200, special_tokens=["[UNK]"])
    tok.train_from_iterator(["the cat sat on the mat", "the dog sat on the log"] * 20, trainer)
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    return path


def test_hf_tokenizer_json_round_trip_through_index_folder(tmp_path) -> None:
    path = _trained_bpe(tmp_path)
    tok = resolve_tokenizer(str(path))
    assert tok is not None and tok.spec.kind == "hf"
    ids = tok.encode("the cat sat")
    assert tok.decode(ids).replace(" ", "") == "thecatsat"
    folder = tmp_path / "idx"
    folder.mkdir()
    save_to_index(tok, folder)
    again = load_from_index(tok.spec, folder)
    assert again.encode("the dog").tolist() == tok.encode("the dog").tolist()


def test_words_index_folder_round_trip(tmp_path) -> None:
    tok = WordsTokenizer.from_counts(Counter({"a": 2, "b": 1}))
    save_to_index(tok, tmp_path)
    assert load_from_index(tok.spec, tmp_path).vocab == ["a", "b"]


def test_worker_encoding_equals_in_process(tmp_path) -> None:
    """HF tokenizers encode in a process pool; results and order equal in-process."""
    tok = resolve_tokenizer(str(_trained_bpe(tmp_path)))
    assert tok is not None
    save_to_index(tok, tmp_path)
    texts = [f"the cat sat {i} on the mat" for i in range(300)]
    batches = [(i, texts[i : i + 50]) for i in range(0, 300, 50)]
    serial = [
        (p, [e.tolist() for e in enc]) for p, enc in encode_batches(tok, tmp_path, batches, 1)
    ]
    parallel = [
        (p, [e.tolist() for e in enc]) for p, enc in encode_batches(tok, tmp_path, batches, 2)
    ]
    assert serial == parallel and [p for p, _ in parallel] == [0, 50, 100, 150, 200, 250]


def test_unknown_spec_fails_clearly() -> None:
    with pytest.raises(CorpusmapError, match="cannot load tokenizer"):
        resolve_tokenizer("/no/such/model-folder")
    with pytest.raises(CorpusmapError, match="GGUF file not found"):
        resolve_tokenizer("/no/such/model.gguf")


@pytest.mark.slow
def test_embedded_gguf_tokenizer() -> None:
    """The SmolLM2 tokenizer converted from its GGUF: 49,152 ids, fits u16."""
    tok = resolve_tokenizer("smollm2")
    assert tok is not None and tok.spec.vocab_size == 49152
    assert width_for(tok.spec.vocab_size) == "u16"
    assert tok.decode(tok.encode("In the beginning God created")) == "In the beginning God created"
