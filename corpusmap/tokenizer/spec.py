"""Tokenizer specs, token widths and the reserved ids.

A spec is what an index manifest records about its tokenizer: its kind
(``bytes``, ``words``, ``ids`` or ``hf``), a human name, the vocabulary size and a
hash of the vocabulary, so an index refuses queries encoded with another one.

Token width follows from the vocabulary: u8, u16 or u32. The two largest ids of a
width are reserved and never written as corpus tokens:

* ``separator_id`` (all bits set) ends every document in a shard, so no match can
  run across documents;
* ``unknown_id`` (one less) stands for a query token the corpus cannot contain
  (an out-of-vocabulary word); it matches nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

WIDTHS: dict[str, type[np.unsignedinteger]] = {"u8": np.uint8, "u16": np.uint16, "u32": np.uint32}


@dataclass(frozen=True, slots=True)
class TokenizerSpec:
    """What identifies a tokenizer.

    Attributes:
        kind: ``bytes`` | ``words`` | ``ids`` | ``hf``.
        name: where it came from (a path, ``smollm2``, ``ids:50277``...).
        vocab_size: number of ids the tokenizer can emit (ids are ``0..vocab_size-1``).
        vocab_hash: sha256 of the vocabulary; two specs match when kind and hash match.
        file: file inside the index folder holding the vocabulary (``vocab.txt`` or
            ``tokenizer.json``), or None when the kind needs none.
    """

    kind: str
    name: str
    vocab_size: int
    vocab_hash: str
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenizerSpec:
        return cls(
            kind=str(data["kind"]),
            name=str(data["name"]),
            vocab_size=int(data["vocab_size"]),
            vocab_hash=str(data["vocab_hash"]),
            file=data.get("file"),
        )

    def same_vocabulary(self, other: TokenizerSpec) -> bool:
        return self.kind == other.kind and self.vocab_hash == other.vocab_hash


def width_for(vocab_size: int) -> str:
    """The narrowest width whose two reserved top ids stay clear of the vocabulary."""
    if vocab_size <= 2**8 - 2:
        return "u8"
    if vocab_size <= 2**16 - 2:
        return "u16"
    if vocab_size <= 2**32 - 2:
        return "u32"
    raise ValueError(f"vocabulary of {vocab_size} ids does not fit 32-bit tokens")


def separator_id(width: str) -> int:
    return int(np.iinfo(WIDTHS[width]).max)


def unknown_id(width: str) -> int:
    return separator_id(width) - 1
