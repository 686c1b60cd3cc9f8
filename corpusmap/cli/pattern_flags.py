"""Click flags for the pattern thresholds, generated from ``PatternParams``.

``@pattern_options`` adds one flag per ``PatternParams`` field that carries help in
its metadata (same names: ``--n-min`` is ``n_min``), with the field's default (the
unit-dependent ones stay unset and are filled per tokenizer). The command receives
them as ordinary keyword arguments; ``collect_pattern_options(kwargs)`` pops them
into the dict to pass to ``classify`` as ``pattern_options``. Adding a threshold is
adding a field: the flag, its help and its default follow.

What it leaves out: ``seed`` and ``examples`` (no help in their metadata: not flags).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

import click

from corpusmap.patterns.params import PatternParams

F = TypeVar("F", bound=Callable[..., Any])

_FIELDS = [f for f in fields(PatternParams) if "help" in f.metadata]
PATTERN_KEYS = tuple(f.name for f in _FIELDS)


def _option(f: Any) -> Callable[[F], F]:
    kind = f.metadata["type"]
    kw: dict[str, Any] = {"default": f.default, "help": f.metadata["help"]}
    if kind == "file":
        kw.update(type=click.Path(exists=True, dir_okay=False), metavar="FILE")
    else:
        kw["type"] = kind
    if f.default is not None:
        kw["show_default"] = True
    return click.option("--" + f.name.replace("_", "-"), **kw)


def pattern_options(func: F) -> F:
    """Decorate a click command with the pattern-threshold flags."""
    for f in reversed(_FIELDS):
        func = _option(f)(func)
    return func


def collect_pattern_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Pop the pattern flags out of a command's keyword arguments into one dict."""
    return {k: kwargs.pop(k) for k in PATTERN_KEYS if k in kwargs}
