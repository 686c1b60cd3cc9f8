"""The tokenizers that need no vocabulary file: UTF-8 ``bytes`` and raw ``ids``.

``bytes`` is the default and always available: a token is one UTF-8 byte, so
lengths and offsets are in bytes. Bytes 0xF5-0xFF never occur in valid UTF-8,
which leaves 0xFE/0xFF free for the reserved unknown/separator ids of a u8 index.

``ids:N`` is for pre-tokenized corpora whose tokenizer is not at hand (or random
benchmark tokens): text is whitespace-separated integers, decoding prints them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from corpusmap.errors import CorpusmapError
from corpusmap.tokenizer.spec import TokenizerSpec


class BytesTokenizer:
    """UTF-8 bytes as tokens (vocabulary 0..0xF4; never emits 0xFE/0xFF)."""

    spec = TokenizerSpec(
        kind="bytes", name="bytes", vocab_size=0xF5, vocab_hash=hashlib.sha256(b"utf-8").hexdigest()
    )

    def encode(self, text: str) -> np.ndarray:
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int64)

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [self.encode(t) for t in texts]

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        arr = np.asarray(ids, dtype=np.int64)
        return bytes(arr[(arr >= 0) & (arr < 256)].astype(np.uint8)).decode("utf-8", "replace")

    def token_strings(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        return [bytes([int(i)]).decode("utf-8", "backslashreplace") for i in ids]


class IdsTokenizer:
    """Whitespace-separated integer ids; ``vocab_size`` bounds the ids accepted."""

    def __init__(self, vocab_size: int) -> None:
        self.spec = TokenizerSpec(
            kind="ids",
            name=f"ids:{vocab_size}",
            vocab_size=vocab_size,
            vocab_hash=hashlib.sha256(f"ids:{vocab_size}".encode()).hexdigest(),
        )

    def encode(self, text: str) -> np.ndarray:
        try:
            arr = np.array([int(t) for t in text.split()], dtype=np.int64)
        except ValueError as exc:
            raise CorpusmapError(
                f"the ids tokenizer reads whitespace-separated integers, got {text[:60]!r}"
            ) from exc
        if arr.size and (arr.min() < 0 or arr.max() >= self.spec.vocab_size):
            raise CorpusmapError(f"token id out of range 0..{self.spec.vocab_size - 1}")
        return arr

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [self.encode(t) for t in texts]

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        return " ".join(str(int(i)) for i in ids)

    def token_strings(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        return [str(int(i)) for i in ids]
