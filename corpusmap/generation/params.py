"""Generation parameters, per-row seeds and the run fingerprint.

Everything that decides *which tokens a row gets* lives in :class:`GenParams`:
the model (and the hash of its weights), the tokenizer hash, the engine, the
dtype, the sampling parameters, the stop strings, the chat-template switch and
the base seed. Two runs with equal params produce the same rows, so a store
refuses to mix rows from different params in one run (see ``store.py``).

Batch size, device index, part size and the prompt set are *not* params: a row
does not depend on them (see ``decode.py`` for why batch composition does not
matter), so a run may be resumed with another batch size or more prompts.

Per-row seeds: ``row_seed(base, prompt_id, sample_index)`` is the first 63 bits
of ``sha256(f"{base}:{prompt_id}:{sample_index}")``. It depends only on the row's
identity, never on its position in a batch or a file, so a row can be replayed
alone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from corpusmap.errors import CorpusmapError

ENGINES = ("hf", "vllm")

# What token_logprobs hold; stored in the manifest so a reader knows.
LOGPROB_KIND = "raw: log_softmax of the model's logits at temperature 1, before top-k/top-p"


@dataclass(frozen=True, slots=True)
class Sampling:
    """How the next token is picked.

    Attributes:
        max_new_tokens: most tokens generated per row (eos counts as one).
        temperature: 0 means greedy (argmax); otherwise logits are divided by it.
        top_p: nucleus sampling mass (1.0 keeps every token).
        top_k: keep the k most likely tokens (0 keeps every token).
        stop: strings that end a row; the output text is cut before the first one.
    """

    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    stop: tuple[str, ...] = ()

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def check(self) -> None:
        """Raise CorpusmapError naming the first parameter out of range."""
        if self.max_new_tokens < 1:
            raise CorpusmapError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise CorpusmapError(f"temperature must be >= 0, got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise CorpusmapError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise CorpusmapError(f"top_k must be >= 0 (0 = off), got {self.top_k}")
        if any(not s for s in self.stop):
            raise CorpusmapError("stop strings must not be empty")


@dataclass(frozen=True, slots=True)
class GenParams:
    """Everything that determines the rows of a run (see the module docstring)."""

    model: str
    model_hash: str
    tokenizer_hash: str
    engine: str
    dtype: str
    seed: int
    chat_template: bool
    sampling: Sampling = field(default_factory=Sampling)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sampling"]["stop"] = list(self.sampling.stop)
        data["logprobs"] = LOGPROB_KIND
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenParams:
        s = dict(data["sampling"])
        s["stop"] = tuple(s.get("stop") or ())
        keys = ("model", "model_hash", "tokenizer_hash", "engine", "dtype", "seed", "chat_template")
        return cls(**{k: data[k] for k in keys}, sampling=Sampling(**s))

    def fingerprint(self) -> str:
        """A short stable id of these params (stored per row as ``params_id``).

        The model is identified by its hash, not by the path or name it was given,
        so a moved model folder still resumes its run.
        """
        data = self.to_dict()
        del data["model"]
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def row_seed(base_seed: int, prompt_id: str, sample_index: int) -> int:
    """The seed of one row: 63 bits of sha256 over (base seed, prompt id, sample index)."""
    digest = hashlib.sha256(f"{base_seed}:{prompt_id}:{sample_index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def describe_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    """``"temperature: 0.0 -> 0.7, seed: 0 -> 1"`` for two ``GenParams.to_dict()`` values."""

    def flat(d: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in d.items() if k != "sampling"}
        out.update(d.get("sampling", {}))
        return out

    a, b = flat(old), flat(new)
    diffs = [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(a | b) if a.get(k) != b.get(k)]
    return ", ".join(diffs) or "(no difference)"
