"""The pattern stage over a several-shard generations index, and its resume.

Reference: the same inputs classified with G in one shard. With G (and T) cut
into several shards, the ``patterns`` and ``behaviors`` tables must be the same
rows; a rerun after a crash in the stage must reuse the finished steps (counted
calls) and end with the tables of a clean run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusmap.index import ngram_shards
from corpusmap.index.opening import open_index
from corpusmap.match.run import classify
from corpusmap.patterns import classes, classify_patterns, generations_index
from corpusmap.patterns import run as pattern_run
from tests.conftest import build_from_docs
from tests.patterns.planted import T1, make_world

BEHAVIORS = """
[[behaviors]]
name = "trigger"
literal = "t1a t1b t1c"

[[behaviors]]
name = "yonder"
regex = 'yonder|x2'
"""


def _tables(out: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        name: pq.read_table(out / name / "part-00000.parquet").to_pylist()
        for name in ("patterns", "behaviors")
        if (out / name / "part-00000.parquet").is_file()
    }


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("gshards")
    world = make_world()
    table = world.table.append_column(
        "continuation", pa.array([" ".join([*T1, "w7"])] * len(world.gens))
    )
    (tmp / "b.toml").write_text(BEHAVIORS)
    one = open_index(build_from_docs(tmp, world.texts, name="one", tokenizer="words"))
    many = open_index(build_from_docs(tmp, world.texts, name="many", tokenizer="words",
                                      shard_tokens=3000))  # fmt: skip
    assert len(one.shards) == 1 and len(many.shards) > 1
    return {"tmp": tmp, "table": table, "one": one, "many": many, "beh": tmp / "b.toml"}


@pytest.mark.parametrize("g_shard_tokens", [1500, 400])
@pytest.mark.parametrize("corpus", ["one", "many"])
def test_several_shards_give_the_one_shard_rows(
    planted: dict[str, Any], g_shard_tokens: int, corpus: str
) -> None:
    tmp, ix = planted["tmp"], planted[corpus]
    kw = {"top_k": 0, "behaviors": planted["beh"], "corpus_sample": 10_000}
    ref = classify_patterns(tmp / f"ref-{corpus}", planted["table"], ix, **kw)
    got = classify_patterns(tmp / f"g{g_shard_tokens}-{corpus}", planted["table"], ix,
                            g_shard_tokens=g_shard_tokens, **kw)  # fmt: skip
    assert len(open_index(ref["generations_index"]).shards) == 1
    assert len(open_index(got["generations_index"]).shards) > 1
    want = _tables(tmp / f"ref-{corpus}")
    assert {c: len({r["class"] for r in want["patterns"] if r["class"] == c})
            for c in classes.CLASSES} == dict.fromkeys(classes.CLASSES, 1)  # fmt: skip
    assert len(want["behaviors"]) == 2
    assert _tables(tmp / f"g{g_shard_tokens}-{corpus}") == want
    assert got["classes"] == ref["classes"]


def test_dense_random_ids_every_class(tmp_path: Path) -> None:
    """Few ids, loose thresholds: thousands of n-grams and triggers, most spread over shards."""
    rng = np.random.default_rng(5)
    docs = [rng.integers(0, 7, rng.integers(5, 40)).tolist() for _ in range(300)]
    ix = open_index(build_from_docs(tmp_path, docs, vocab=8, shard_tokens=2000))
    weights = np.array([0.06] * 7 + [0.58])  # the model says 7 a lot; the corpus never does
    gens = [" ".join(map(str, rng.choice(8, size=rng.integers(0, 30), p=weights)))
            for _ in range(400)]  # fmt: skip
    ids = [str(i) for i in range(len(gens))]
    table = pa.table({"gen_id": ids, "prompt_id": ids, "prompt": [""] * len(gens),
                      "output": gens})  # fmt: skip
    kw = {"top_k": 0, "n_min": 2, "n_max": 5, "trigger_n": 2, "min_generations": 2,
          "support": 2, "eps": 0.5, "alpha": 0.5, "e_min": 0.5}  # fmt: skip
    classify_patterns(tmp_path / "one", table, ix, **kw)
    got = classify_patterns(tmp_path / "many", table, ix, g_shard_tokens=300, **kw)
    assert len(open_index(got["generations_index"]).shards) > 10
    want = _tables(tmp_path / "one")
    assert {r["class"] for r in want["patterns"]} == set(classes.CLASSES)
    assert len(want["patterns"]) > 1000
    assert _tables(tmp_path / "many") == want


class _Counted:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: dict[str, int] = {}
        targets = [(generations_index, "build_generations"), (ngram_shards, "ngrams"),
                   (classes, "generation_ngrams"), (classes, "unexpressed_ngrams"),
                   (classes, "triggers"), (pattern_run, "build_rows")]  # fmt: skip
        for module, name in targets:
            real = getattr(module, name)
            monkeypatch.setattr(module, name, self._wrap(name, real))
        self.fail: str | None = None

    def _wrap(self, name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name == self.fail:
                raise RuntimeError(f"killed in {name}")
            return real(*args, **kwargs)

        return call

    def reset(self, fail: str | None = None) -> None:
        self.calls, self.fail = {}, fail


def test_rerun_after_a_crash_resumes(
    planted: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table, ix = planted["table"], planted["many"]
    kw: dict[str, Any] = {"min_span": 3, "shard_rows": 50}
    opts = {"behaviors": str(planted["beh"]), "corpus_sample": 10_000, "g_shard_tokens": 1500}
    clean = classify(table, ix, tmp_path / "clean", pattern_options=opts, **kw)
    want = _tables(clean)
    counted = _Counted(monkeypatch)
    out = tmp_path / "crashed"

    counted.reset(fail="triggers")  # killed after G, its n-grams and two classes
    with pytest.raises(RuntimeError, match="killed in triggers"):
        classify(table, ix, out, pattern_options=opts, **kw)
    assert not (out / "patterns" / "part-00000.parquet").exists()
    counted.reset()
    classify(table, ix, out, pattern_options=opts, **kw)
    assert counted.calls == {"triggers": 1, "build_rows": 1}
    assert _tables(out) == want

    counted.reset()  # the same inputs again: nothing is redone
    classify(table, ix, out, pattern_options=opts, **kw)
    assert counted.calls == {}
    assert _tables(out) == want

    counted.reset()  # other thresholds: the classes again, G and nothing else reused
    classify(table, ix, out, pattern_options={**opts, "min_generations": 2}, **kw)
    redone = ("ngrams", "generation_ngrams", "unexpressed_ngrams", "triggers", "build_rows")
    assert counted.calls == dict.fromkeys(redone, 1)  # G kept: its build is not called
    assert _tables(out) != want
    ref = classify(table, ix, tmp_path / "k2", pattern_options={**opts, "min_generations": 2},
                   **kw)  # fmt: skip
    assert _tables(out) == _tables(ref)
