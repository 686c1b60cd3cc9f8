"""The pattern stage's finished steps, so a rerun resumes instead of starting over.

``RESULTS/.patterns_steps/`` holds ``state.json`` and one file per finished step.
The state carries a fingerprint of everything the steps read (the generations'
ids and texts, their tokenizer, the corpus index's fingerprint, the n-gram
thresholds, the corpusmap version); when it differs, the folder is emptied and
every step runs again. Each step also has its own key (e.g. ``top_k`` for the
table, the behaviour file's content for behaviours), so a change that touches one
step redoes that step only. A step's result is written atomically
(``corpusmap.atomic``) before the state lists it, so a step killed half-way is
simply not finished: its file is either absent or whole, and unlisted.

Results are arrays (``.npz``, no pickles) or, for the generations index, a note of
its fingerprint (the index itself is in ``RESULTS/generations_index``).

What it leaves out: locking (one classify writes a results folder at a time, as
for the match stage) and resuming inside a step (a step is the unit of resume).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from corpusmap.atomic import write_bytes, write_json
from corpusmap.patterns.classes import Block

FOLDER = ".patterns_steps"
STATE = "state.json"


def digest(value: Any) -> str:
    """sha256 of a JSON-serialisable value (keys sorted)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


class Steps:
    """Finished steps under ``out/.patterns_steps`` for one input fingerprint."""

    def __init__(self, out: Path, fingerprint: str) -> None:
        self.folder = out / FOLDER
        self.fingerprint = fingerprint
        state = self._read()
        if state.get("fingerprint") != fingerprint:
            shutil.rmtree(self.folder, ignore_errors=True)
            state = {"fingerprint": fingerprint, "done": {}}
        self.folder.mkdir(parents=True, exist_ok=True)
        self.state = state
        write_json(self.folder / STATE, state)

    def _read(self) -> dict[str, Any]:
        try:
            state = json.loads((self.folder / STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) and isinstance(state.get("done"), dict) else {}

    def record(self, name: str, key: str = "") -> dict[str, Any] | None:
        """What step ``name`` recorded, if it finished with this ``key``."""
        rec = self.state["done"].get(name)
        return rec if isinstance(rec, dict) and rec.get("key") == key else None

    def finish(self, name: str, key: str = "", **info: Any) -> None:
        """List ``name`` as finished (its result file, if any, is written already)."""
        self.state["done"][name] = {"key": key, **info}
        write_json(self.folder / STATE, self.state)

    def drop(self, name: str) -> None:
        """Forget ``name`` (before redoing it), so a crash mid-way never reads it as done."""
        if self.state["done"].pop(name, None) is not None:
            write_json(self.folder / STATE, self.state)

    def load(self, name: str, key: str = "") -> dict[str, np.ndarray] | None:
        """The arrays step ``name`` saved, if it finished with this ``key``."""
        if self.record(name, key) is None:
            return None
        try:
            with np.load(self.folder / f"{name}.npz", allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError):
            return None

    def save(self, name: str, arrays: dict[str, np.ndarray], key: str = "") -> None:
        """Write ``name``'s arrays atomically, then list the step as finished."""
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        write_bytes(self.folder / f"{name}.npz", buf.getvalue())
        self.finish(name, key)


_FIELDS = ("toks", "count_t", "count_g", "n_gen", "opp_t", "opp_g", "cls")


def blocks_to_arrays(blocks: list[Block]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"count": np.array(len(blocks))}
    for i, b in enumerate(blocks):
        out[f"{i}.n"] = np.array(b.n)
        for f in _FIELDS:
            out[f"{i}.{f}"] = getattr(b, f)
        for k, v in b.extra.items():
            out[f"{i}.extra.{k}"] = v
    return out


def arrays_to_blocks(arrays: dict[str, np.ndarray]) -> list[Block]:
    blocks = []
    for i in range(int(arrays["count"])):
        extra = {k.split(".", 2)[2]: v for k, v in arrays.items() if k.startswith(f"{i}.extra.")}
        cols = {f: arrays[f"{i}.{f}"] for f in _FIELDS}
        blocks.append(Block(n=int(arrays[f"{i}.n"]), extra=extra, **cols))
    return blocks


def grams_to_arrays(grams: dict[int, Any]) -> dict[str, np.ndarray]:
    return {f"{n}.{j}": a for n, parts in grams.items() for j, a in enumerate(parts)}


def arrays_to_grams(arrays: dict[str, np.ndarray]) -> dict[int, Any]:
    ns = sorted({int(k.split(".")[0]) for k in arrays})
    return {n: tuple(arrays[f"{n}.{j}"] for j in range(3)) for n in ns}
