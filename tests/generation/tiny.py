"""A tiny randomly initialised Llama and a word-level tokenizer, built offline.

The tokenizer is word-level over the words of a few sentences (``<eos>`` and
``<unk>`` special; decoding joins words with spaces), the model has 2 layers of
width 32. Weights are random but seeded, so outputs are word salad yet fully
determined: what the tests check is the machinery (batching, seeds, log-probs,
the store), not the text. Helpers shared by the tests follow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "in the beginning was the word, and the word was with god",
    "hello world, this is a small test of the generation stage.",
    "a cat sat on the mat; a dog sat on the log!",
    "numbers 0 1 2 3 4 5 6 7 8 9 and letters",
]

PROMPTS = [
    "the quick",
    "hello world, this is a small",
    "a cat",
    "in the beginning was the word and",
    "numbers 1 2",
    "the lazy dog sat on the mat",
    "x",
]


def build_tiny_model(folder: Path, seed: int = 0) -> Path:
    """Save a tiny Llama + tokenizer to ``folder`` with ``save_pretrained``."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = sorted({w for s in SENTENCES for w in s.replace(",", " ,").split()})
    vocab = {w: i for i, w in enumerate(["<eos>", "<unk>", *words])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<eos>", unk_token="<unk>"
    )
    config = transformers.LlamaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        eos_token_id=fast.eos_token_id,
        bos_token_id=None,
        pad_token_id=None,
        initializer_range=0.3,
    )
    torch.manual_seed(seed)
    model = transformers.LlamaForCausalLM(config)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


VOLATILE = ("created_at", "gen_seconds")


def rows_by_id(table: Any) -> dict[str, dict[str, Any]]:
    """Rows of an Arrow table keyed by gen_id, without the wall-clock columns."""
    out = {}
    for row in table.to_pylist():
        for k in VOLATILE:
            row.pop(k, None)
        out[row["gen_id"]] = row
    return out


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")
    return path


def reference_logprobs(model: Any, prompt_ids: list[int], output_ids: list[int]) -> list[float]:
    """Log-probs of ``output_ids`` from ONE forward pass over prompt + output (no cache)."""
    import torch

    ids = torch.tensor([prompt_ids + output_ids])
    with torch.inference_mode():
        logits = model(input_ids=ids).logits[0].float()
    logp = torch.log_softmax(logits, -1)
    start = len(prompt_ids) - 1
    return [float(logp[start + i, t]) for i, t in enumerate(output_ids)]


def assert_same_rows(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> None:
    """Same gen_ids and columns; token ids exact, log-probs within float rounding of
    different batch shapes (~1e-6 in float32)."""
    assert a.keys() == b.keys()
    for gid, row in a.items():
        other = dict(b[gid])
        assert other.pop("token_logprobs") == pytest.approx(row["token_logprobs"], abs=1e-4), gid
        assert other == {k: v for k, v in row.items() if k != "token_logprobs"}, gid
