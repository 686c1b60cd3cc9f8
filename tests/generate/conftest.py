"""A tiny randomly initialised Llama and a byte-level BPE tokenizer, built offline.

The tokenizer is word-level over the words of a few sentences (``<eos>`` and
``<unk>`` special; decoding joins words with spaces), the model has 2 layers of
width 32. Weights are random but seeded, so
outputs are gibberish yet fully determined: what the tests check is the
machinery (batching, seeds, log-probs, the store), not the text.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("CORPUSMAP_PROGRESS", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

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


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny-llama")))


@pytest.fixture(autouse=True)
def _private_hash_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """Keep the model-hash cache out of the user's home."""
    monkeypatch.setenv("CORPUSMAP_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
