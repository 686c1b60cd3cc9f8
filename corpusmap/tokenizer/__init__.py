"""Tokenizers: resolve a spec string, save into / load from an index folder.

Spec strings accepted everywhere a tokenizer is named (``--tokenizer SPEC``):

* ``bytes`` (default): UTF-8 bytes;
* ``words``: word-level, vocabulary learnt from the corpus at build time;
  ``words:PATH`` uses an existing ``vocab.txt``;
* ``ids:N``: pre-tokenized ids below N, no decoding beyond the numbers;
* ``smollm2`` / ``embedded``: the tokenizer inside the embedded SmolLM2 GGUF;
* a path to a ``tokenizer.json``, a ``.gguf`` file or a local model folder;
* otherwise a hub name (needs network; fails clearly offline).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from corpusmap.errors import CorpusmapError, IndexFormatError, TokenizerMismatchError
from corpusmap.tokenizer.spec import TokenizerSpec, separator_id, unknown_id, width_for

__all__ = [
    "Tokenizer",
    "TokenizerSpec",
    "covering_tokenizer",
    "load_from_index",
    "resolve_tokenizer",
    "save_to_index",
    "separator_id",
    "unknown_id",
    "width_for",
]


class Tokenizer(Protocol):
    """What corpusmap needs of a tokenizer."""

    spec: TokenizerSpec

    def encode(self, text: str) -> np.ndarray: ...
    def encode_batch(self, texts: list[str]) -> list[np.ndarray]: ...
    def decode(self, ids: list[int] | np.ndarray) -> str: ...
    def token_strings(self, ids: list[int] | np.ndarray) -> list[str]: ...


def resolve_tokenizer(spec: str) -> Tokenizer | None:
    """The tokenizer a spec string names, or None for ``words`` (learnt at build time)."""
    from corpusmap.tokenizer import hf_tokenizer as hf
    from corpusmap.tokenizer.simple import BytesTokenizer, IdsTokenizer
    from corpusmap.tokenizer.words import WordsTokenizer

    if spec == "bytes":
        return BytesTokenizer()
    if spec == "words":
        return None
    if spec.startswith("words:"):
        return WordsTokenizer.load(spec[len("words:") :])
    if spec.startswith("ids:"):
        try:
            return IdsTokenizer(int(spec[4:]))
        except ValueError as exc:
            raise CorpusmapError(f"bad tokenizer spec {spec!r}: use ids:VOCAB_SIZE") from exc
    if spec in ("smollm2", "embedded"):
        return hf.from_gguf(hf.embedded_gguf(), spec)
    path = Path(spec)
    if path.suffix == ".json" and path.is_file():
        return hf.HFTokenizer.from_file(path)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise CorpusmapError(f"{spec}: GGUF file not found")
        return hf.from_gguf(path, spec)
    return hf.from_pretrained(spec)


def save_to_index(tokenizer: Tokenizer, folder: Path) -> None:
    """Write the tokenizer's vocabulary file (if it has one) into an index folder."""
    if tokenizer.spec.file:
        tokenizer.save(folder / tokenizer.spec.file)  # type: ignore[attr-defined]


def covering_tokenizer(tok: Tokenizer, texts: list[str]) -> Tokenizer:
    """``tok``, or for ``words`` its vocabulary extended by the words ``texts`` add.

    Texts a model generated are tokenized once with it: ids of words the corpus has
    are unchanged, and new words get ids of their own (an index over the
    generations tells them apart; against the corpus they are unknown).
    """
    from corpusmap.tokenizer.words import WordsTokenizer

    return tok.covering(texts) if isinstance(tok, WordsTokenizer) else tok


def load_from_index(spec: TokenizerSpec, folder: Path) -> Tokenizer:
    """Rebuild an index's tokenizer from its manifest spec and files, checking the hash."""
    from corpusmap.tokenizer.hf_tokenizer import HFTokenizer
    from corpusmap.tokenizer.simple import BytesTokenizer, IdsTokenizer
    from corpusmap.tokenizer.words import WordsTokenizer

    tok: Tokenizer
    if spec.file and not (folder / spec.file).is_file():
        raise IndexFormatError(
            f"{folder / spec.file}: the index's tokenizer file is missing; "
            "the index is damaged: rebuild it with `corpusmap index build`"
        )
    if spec.kind == "bytes":
        tok = BytesTokenizer()
    elif spec.kind == "ids":
        tok = IdsTokenizer(spec.vocab_size)
    elif spec.kind == "words":
        tok = WordsTokenizer.load(folder / (spec.file or "vocab.txt"))
    elif spec.kind == "hf":
        tok = HFTokenizer.from_file(folder / (spec.file or "tokenizer.json"), spec.name)
    else:
        raise CorpusmapError(f"{folder}: unknown tokenizer kind {spec.kind!r} in manifest")
    if not tok.spec.same_vocabulary(spec):
        raise TokenizerMismatchError(
            f"{folder}: the stored tokenizer file does not match the manifest's vocab hash; "
            "the index is damaged: run `corpusmap index verify` and rebuild it"
        )
    return tok
