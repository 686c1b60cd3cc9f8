"""corpusmap: map what a language model was trained on against what it generates.

The public surface (see DESIGN.md) is importable from here; heavy stages are
imported on first use so ``import corpusmap`` stays fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "build_index": "corpusmap.index.build",
    "open_index": "corpusmap.index.opening",
    "Index": "corpusmap.index.index",
    "make_prompts": "corpusmap.prompts",
    "generate": "corpusmap.generation",
    "replay": "corpusmap.generation",
    "classify": "corpusmap.match",
    "sql": "corpusmap.query",
    "report": "corpusmap.query.report",
    "serve": "corpusmap.explorer",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'corpusmap' has no attribute {name!r}")
