"""Click flags for the pattern thresholds, to put on ``corpusmap classify``.

``@pattern_options`` adds one flag per ``classify_patterns`` keyword (same
names: ``--n-min`` is ``n_min``), with the same defaults (those of
``PatternParams``; the unit-dependent ones stay unset and are filled per
tokenizer). The command receives them as ordinary keyword arguments;
``collect_pattern_options(kwargs)`` pops them into the dict to pass as
``pattern_options``.

What it leaves out: ``seed`` (the command's own seed, if any, is not reused).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from corpusmap.patterns.params import PatternParams

F = TypeVar("F", bound=Callable[..., Any])
_D = PatternParams()

_FLAGS: list[tuple[str, dict[str, Any]]] = [
    ("--n-min", {"type": int, "default": None,
                 "help": "Shortest n-gram, tokens [words 3, hf/ids 4, bytes 20]."}),
    ("--n-max", {"type": int, "default": None,
                 "help": "Longest n-gram, tokens [words 6, hf/ids 8, bytes 32]."}),
    ("--min-generations", {"type": int, "default": _D.min_generations, "show_default": True,
                           "help": "k: shared/idiosyncratic n-grams recur in >= k generations."}),
    ("--e-min", {"type": float, "default": _D.e_min, "show_default": True,
                 "help": "Unexpressed: expected count in the generations at least this."}),
    ("--alpha", {"type": float, "default": _D.alpha, "show_default": True,
                 "help": "Unexpressed: Poisson p < alpha; contingent: G² p < alpha."}),
    ("--support", {"type": int, "default": _D.support, "show_default": True,
                   "help": "Contingent: dominant continuation in >= s generations."}),
    ("--eps", {"type": float, "default": _D.eps, "show_default": True,
               "help": "Contingent: corpus P(continuation | trigger) <= eps."}),
    ("--trigger-n", {"type": int, "default": None,
                     "help": "Trigger length, tokens [words 3, hf/ids 4, bytes 16]."}),
    ("--top-k", {"type": int, "default": _D.top_k, "show_default": True,
                 "help": "Pattern rows kept per class, by keyness (0: all)."}),
    ("--behaviors", {"type": click.Path(exists=True, dir_okay=False), "default": None,
                     "metavar": "FILE", "help": "TOML/YAML file of user behaviours."}),
    ("--feature", {"default": _D.feature, "show_default": True,
                   "help": "Output feature for behaviour mutual information: behavior, "
                           "copied>=L, extracted, COLUMN or COLUMN>=V."}),
    ("--corpus-sample", {"type": int, "default": _D.corpus_sample, "show_default": True,
                         "help": "Corpus documents sampled for regex/function behaviours."}),
]  # fmt: skip

PATTERN_KEYS = tuple(flag[2:].replace("-", "_") for flag, _ in _FLAGS)


def pattern_options(func: F) -> F:
    """Decorate a click command with the pattern-threshold flags."""
    for flag, kw in reversed(_FLAGS):
        func = click.option(flag, **kw)(func)
    return func


def collect_pattern_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Pop the pattern flags out of a command's keyword arguments into one dict."""
    return {k: kwargs.pop(k) for k in PATTERN_KEYS if k in kwargs}
