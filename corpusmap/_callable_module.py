"""Make a stage's package callable as its stage function.

DESIGN.md promises ``corpusmap.generate(...)`` and ``corpusmap.classify(...)``, and
its layout has packages ``corpusmap/generate/`` and ``corpusmap/classify/``. Once a
submodule is imported, Python binds the package to that name on ``corpusmap``, so
the name would stop being the function. Turning those two package modules into
callables that forward to their function keeps both promises:
``corpusmap.generate(model, prompts, out)`` and ``from corpusmap import classify``
work whatever was imported before.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


def make_callable(module_name: str, target: str) -> None:
    """Let ``module_name`` be called as ``target`` (``"pkg.mod:function"``, imported late)."""
    mod_path, func_name = target.split(":")

    class _StageModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return getattr(importlib.import_module(mod_path), func_name)(*args, **kwargs)

    _StageModule.__call__.__doc__ = f"Call {target.replace(':', '.')} (see its docstring)."
    sys.modules[module_name].__class__ = _StageModule
