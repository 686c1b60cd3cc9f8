"""The public surface of DESIGN.md: names importable from ``corpusmap`` and callable."""

from __future__ import annotations

import subprocess
import sys

import pytest

import corpusmap.classify  # binds the subpackages on corpusmap, as any user import would
import corpusmap.generate
from corpusmap.errors import CorpusmapError

NAMES = [
    "build_index",
    "open_index",
    "make_prompts",
    "generate",
    "replay",
    "classify",
    "sql",
    "report",
]


@pytest.mark.parametrize("name", NAMES)
def test_public_names_are_callable_after_any_import(name: str) -> None:
    assert callable(getattr(corpusmap, name))


def test_stage_packages_forward_to_their_functions(tmp_path) -> None:
    with pytest.raises(CorpusmapError, match="no such index folder"):
        corpusmap.classify(tmp_path / "missing.jsonl", tmp_path / "idx", tmp_path / "out")
    from corpusmap import classify, generate

    with pytest.raises(CorpusmapError):
        generate(str(tmp_path / "no-model"), ["hi"], tmp_path / "G.parquet")
    assert classify is corpusmap.classify


def test_fresh_interpreter_from_import() -> None:
    code = (
        "from corpusmap import generate, classify; import corpusmap.generate; "
        "print(callable(generate) and callable(classify))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
