"""User-defined behaviours: a TOML or YAML file of named functions text -> count.

A behaviour B maps a text to a non-negative count (how often B happens in it);
it "fires" on a text when the count is > 0. Three types, one key each::

    # behaviors.toml                         # behaviors.yaml
    [[behaviors]]                            behaviors:
    name = "apology"                           - name: apology
    literal = "I'm sorry"                        literal: "I'm sorry"
                                               - name: url
    [[behaviors]]                                regex: "https?://\\\\S+"
    name = "url"                                 flags: i
    regex = 'https?://\\S+'                    - name: exclaims
    flags = "i"          # optional: i m s x     function: mybehaviors:exclamations

    [[behaviors]]
    name = "exclaims"
    function = "mybehaviors:exclamations"

* ``literal``: occurrences of the literal's tokens (index tokenizer), counted
  exactly through the corpus index and the generations index.
* ``regex``: non-overlapping matches of a Python ``re`` pattern in the text.
* ``function``: ``module:function`` returning a bool or a non-negative int for a
  text; the file's own folder is searched first, so a ``mybehaviors.py`` next
  to it is found.

Every entry needs a unique ``name`` and exactly one of the three keys; unknown
keys are refused (a typo would otherwise be ignored). A bad file raises an
``InputError`` naming the file and the entry (``behaviors[2] ('url')``).

What it leaves out: evaluating and scoring behaviours (``behavior_score``).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpusmap.errors import CorpusmapError, InputError

TYPES = ("literal", "regex", "function")
_KEYS = {"name", "description", "flags", *TYPES}
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


@dataclass(frozen=True)
class Behavior:
    """One parsed behaviour: its name, type, source text and a per-text counter."""

    name: str
    type: str
    spec: str
    counter: Callable[[str], int] | None  # None for literals (counted on tokens)
    where: str  # "FILE: behaviors[k] ('name')", for messages

    def count_text(self, text: str) -> int:
        """Count of the behaviour in one text (regex and function behaviours)."""
        assert self.counter is not None
        value = self.counter(text)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int) and value >= 0:
            return value
        raise CorpusmapError(
            f"{self.where}: the function returned {value!r} ({type(value).__name__}); a "
            "behaviour function must return a bool or a non-negative int"
        )


def _read(path: Path) -> Any:
    if not path.is_file():
        raise InputError(str(path), "behaviour file not found")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(str(path), f"invalid TOML: {exc}") from exc
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:
            raise CorpusmapError(
                f"{path}: reading YAML needs PyYAML (`pip install pyyaml`); or write it as TOML"
            ) from exc
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            col = mark.column + 1 if mark is not None else None
            raise InputError(str(path), f"invalid YAML: {exc}", line, col) from exc
    raise InputError(str(path), "unknown behaviour file type: use .toml, .yaml or .yml")


def _function(spec: str, folder: Path, fail: Callable[[str], Exception]) -> Callable[[str], Any]:
    module, sep, attr = spec.partition(":")
    if not sep or not module or not attr:
        raise fail(f"function {spec!r} must be written module:function")
    sys.path.insert(0, str(folder))
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # any import-time failure is the user's module's
        raise fail(f"cannot import module {module!r} ({type(exc).__name__}: {exc})") from exc
    finally:
        sys.path.remove(str(folder))
    func = getattr(mod, attr, None)
    if not callable(func):
        raise fail(f"module {module!r} has no function {attr!r}")
    return func


def _regex_counter(rx: re.Pattern[str]) -> Callable[[str], int]:
    return lambda text: sum(1 for _ in rx.finditer(text))


def _entry(k: int, raw: Any, path: Path, seen: set[str]) -> Behavior:
    name = raw.get("name") if isinstance(raw, dict) else None
    label = f"behaviors[{k}]" + (f" ({name!r})" if isinstance(name, str) else "")

    def fail(msg: str) -> InputError:
        return InputError(str(path), f"{label}: {msg}")

    if not isinstance(raw, dict):
        raise fail(f"expected a table/mapping with name and literal|regex|function, got {raw!r}")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise fail(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    if not isinstance(name, str) or not name.strip():
        raise fail("needs a non-empty string 'name'")
    if name in seen:
        raise fail(f"duplicate name {name!r}; names must be unique")
    kinds = [t for t in TYPES if t in raw]
    if len(kinds) != 1:
        raise fail("needs exactly one of 'literal', 'regex' or 'function'")
    kind = kinds[0]
    spec = raw[kind]
    if not isinstance(spec, str) or not spec:
        raise fail(f"{kind!r} must be a non-empty string")
    flags = raw.get("flags", "")
    if flags and (kind != "regex" or not isinstance(flags, str) or set(flags) - set(_FLAGS)):
        raise fail("'flags' applies to regex only and takes letters from 'imsx'")
    counter: Callable[[str], int] | None = None
    if kind == "regex":
        bits = 0
        for f in flags:
            bits |= _FLAGS[f]
        try:
            rx = re.compile(spec, bits)
        except re.error as exc:
            raise fail(f"invalid regex {spec!r}: {exc}") from exc
        counter = _regex_counter(rx)
    elif kind == "function":
        counter = _function(spec, path.parent, fail)
    seen.add(name)
    return Behavior(name, kind, spec, counter, f"{path}: {label}")


def load_behaviors(path: str | Path) -> list[Behavior]:
    """Parse and check a behaviour file (see module docstring for the format)."""
    path = Path(path)
    data = _read(path)
    entries = data.get("behaviors") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(
            str(path),
            "expected a non-empty list 'behaviors' ([[behaviors]] tables in TOML, "
            "a 'behaviors:' list in YAML)",
        )
    seen: set[str] = set()
    return [_entry(k, raw, path, seen) for k, raw in enumerate(entries)]
