"""The public surface of DESIGN.md: names importable from ``corpusmap`` and callable."""

from __future__ import annotations

import subprocess
import sys

import pytest

import corpusmap
import corpusmap.generation  # stage packages imported first, as any user script may
import corpusmap.match
import corpusmap.patterns
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
def test_public_names_are_plain_functions_after_any_import(name: str) -> None:
    import inspect

    assert inspect.isfunction(getattr(corpusmap, name))


def test_public_functions_run(tmp_path) -> None:
    with pytest.raises(CorpusmapError, match="no such index folder"):
        corpusmap.classify(tmp_path / "missing.jsonl", tmp_path / "idx", tmp_path / "out")
    from corpusmap import classify, generate

    with pytest.raises(CorpusmapError):
        generate(str(tmp_path / "no-model"), ["hi"], tmp_path / "G.parquet")
    assert classify is corpusmap.match.classify


def test_fresh_interpreter_from_import() -> None:
    code = (
        "from corpusmap import generate, classify; import corpusmap.generation, "
        "corpusmap.patterns; import corpusmap, inspect; "
        "print(inspect.isfunction(corpusmap.generate) and inspect.isfunction(classify))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_imports_run_one_way() -> None:
    """match -> patterns, never back; no stage outside index/ imports the index kernels or
    maps token ids to ``unknown`` itself (``TokenBatch.clipped`` through the index does)."""
    import pathlib
    import re

    root = pathlib.Path(corpusmap.__file__).parent
    kernel_import = re.compile(
        r"corpusmap\.index(\.| import )(kernels|interleaved_search|ngram_runs|prefix_table)\b"
    )
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root).as_posix()
        if rel.startswith("patterns/"):
            assert "corpusmap.match" not in text, f"{rel} imports the match stage"
        if not rel.startswith("index/"):
            assert not kernel_import.search(text), f"{rel} imports the index kernels"
        if not rel.startswith(("index/", "tokenizer/")):  # ids -> unknown in one place
            assert not re.search(r"\.unknown\b", text), f"{rel} maps ids to unknown itself"
