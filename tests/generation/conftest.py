"""Fixtures of the generation tests: the tiny model (built once) and a private hash cache."""

from __future__ import annotations

import os

import pytest

from tests.generation.tiny import build_tiny_model

os.environ.setdefault("CORPUSMAP_PROGRESS", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny-llama")))


@pytest.fixture(autouse=True)
def _private_hash_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """Keep the model-hash cache out of the user's home."""
    monkeypatch.setenv("CORPUSMAP_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
