"""The pattern stage's steps, each run once per input: reused when finished, else run.

``Stage`` is what ``classify_patterns`` drives: it holds the two sides (T and G,
local or on Ray, ``ray_patterns``), the record of finished steps (``steps``) and
one method per heavy step, which returns the saved result of an earlier run when
that step finished with the same inputs, and otherwise runs it and saves it:

* ``generations``: G at ``RESULTS/generations_index``, reused when the record
  names its fingerprint and it opens (sizes and small checksums; the big arrays
  are checked block by block on first read), rebuilt otherwise;
* ``grams``: G's n-grams held by enough generations (``classes.wanted_ngrams``);
* ``generation_ngrams``, ``unexpressed``, ``triggers``: the class blocks, before
  closing (closing and ranking take milliseconds and are redone);
* ``todo``/``done``: the two tables, which are their own record.

What every step reads is in the stage's fingerprint (a change empties the
record): the generations' table (ids, prompts, outputs, continuations), the
tokenizer, the corpus index's fingerprint and the corpusmap version. Each step's
key holds the thresholds it reads: G none (other thresholds reuse it), the class
steps the n-gram thresholds, the patterns table also ``top_k`` and ``examples``,
the behaviours table also the behaviour file's content, ``feature`` and
``corpus_sample``. G's shard size changes G, never a result. What it leaves out:
resuming inside a step.
"""

from __future__ import annotations

import hashlib
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa

from corpusmap import __version__
from corpusmap.errors import CorpusmapError
from corpusmap.index.index import Index
from corpusmap.patterns import classes as C
from corpusmap.patterns import generations_index as GI
from corpusmap.patterns.params import PatternParams
from corpusmap.patterns.sides import Side
from corpusmap.patterns.steps import (
    Steps,
    arrays_to_blocks,
    arrays_to_grams,
    blocks_to_arrays,
    digest,
    grams_to_arrays,
)
from corpusmap.tokenizer import Tokenizer
from corpusmap.tokenizer.batch import TokenBatch

_TABLE_COLUMNS = ("gen_id", "prompt_id", "prompt", "output", "continuation", "original_prompt")
_TABLE_ONLY = ("top_k", "examples", "behaviors", "feature", "corpus_sample")


def _table_digest(table: pa.Table) -> str:
    """sha256 of the columns the steps read (Arrow IPC bytes: sliced buffers are cut)."""
    cols = [c for c in _TABLE_COLUMNS if c in table.column_names]
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.select(cols).schema) as w:
        w.write_table(table.select(cols))
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def _file_digest(path: str | None) -> str | None:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else None


class Stage:
    """The steps of one pattern run over ``out`` (see module); a context manager."""

    def __init__(
        self,
        out: Path,
        table: pa.Table,
        ix: Index,
        p: PatternParams,
        encoded: tuple[Tokenizer, dict[str, TokenBatch]],
        ray: str | None = None,
        g_shard_tokens: int | None = None,
    ) -> None:
        self.out, self.table, self.p = out, table, p
        self.tok, self.batches = encoded
        self.ix, self.ray, self.g_shard_tokens = ix, ray, g_shard_tokens
        self.fingerprint = digest({
            "table": _table_digest(table), "tokenizer": self.tok.spec.to_dict(),
            "corpus": ix.manifest["corpus_fingerprint"], "version": __version__,
        })  # fmt: skip
        ngram = {k: v for k, v in p.as_dict().items() if k not in _TABLE_ONLY}
        behaviors = {"file": _file_digest(p.behaviors), "feature": p.feature,
                     "corpus_sample": p.corpus_sample}  # fmt: skip
        classes = digest(ngram)
        self.keys = {
            "generations_index": digest({"shard_tokens": g_shard_tokens}),
            "grams": digest(C.wanted_ngrams(p)),
            "generation_ngrams": classes,
            "unexpressed": classes,
            "triggers": classes,
            "patterns": digest([ngram, p.top_k, p.examples]),
            "behaviors": digest([ngram, behaviors]),
        }
        self._exit = ExitStack()
        self.rt: Any = None

    def __enter__(self) -> Stage:
        self.steps = Steps(self.out, self.fingerprint)
        if self.ray is not None:
            from corpusmap import ray_runtime

            self.rt = self._exit.enter_context(ray_runtime.session(self.ray))
        self.corpus = Side(self.ix, self._map(self.ix))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._exit.close()

    def _map(self, ix: Index) -> Any:
        if self.rt is None:
            return None
        from corpusmap.patterns.ray_patterns import ray_map

        return ray_map(self.rt, ix)

    # ---- the steps ---------------------------------------------------------------
    def generations(self) -> GI.Generations:
        """G, reused when built for these inputs and still intact, else (re)built."""
        name, key = "generations_index", self.keys["generations_index"]
        rec = self.steps.record(name, key)
        if rec is not None:
            try:
                g = GI.load_generations(self.out, self.batches["output"])
                if g.index.manifest["corpus_fingerprint"] == rec.get("index"):
                    g.map_shards = self._map(g.index) or g.map_shards
                    return g
            except (CorpusmapError, OSError):
                pass  # damaged or gone: build it again
        self.steps.drop(name)
        GI.build_generations(self.out, self.batches["output"], self.tok,
                             shard_tokens=self.g_shard_tokens, ray=self.ray)  # fmt: skip
        g = GI.load_generations(self.out, self.batches["output"])
        g.map_shards = self._map(g.index) or g.map_shards
        self.steps.finish(name, key, index=g.index.manifest["corpus_fingerprint"],
                          shards=len(g.index.shards))  # fmt: skip
        return g

    def grams(self, g: GI.Generations) -> dict[int, Any]:
        saved = self.steps.load("grams", self.keys["grams"])
        if saved is not None:
            return arrays_to_grams(saved)
        self.steps.drop("grams")
        grams = g.ngrams(C.wanted_ngrams(self.p))
        self.steps.save("grams", grams_to_arrays(dict(grams)), self.keys["grams"])
        return grams

    def _blocks(self, name: str, run: Any) -> list[C.Block]:
        saved = self.steps.load(name, self.keys[name])
        if saved is not None:
            return arrays_to_blocks(saved)
        self.steps.drop(name)
        blocks = run()
        self.steps.save(name, blocks_to_arrays(blocks), self.keys[name])
        return list(blocks)

    def generation_ngrams(self, g: GI.Generations, grams: dict[int, Any]) -> list[C.Block]:
        return self._blocks(
            "generation_ngrams", lambda: C.generation_ngrams(g, self.corpus, grams, self.p)
        )

    def unexpressed(self, g: GI.Generations, continuations: TokenBatch | None) -> list[C.Block]:
        return self._blocks(
            "unexpressed", lambda: C.unexpressed_ngrams(g, self.corpus, continuations, self.p)
        )

    def triggers(self, g: GI.Generations, grams: dict[int, Any]) -> C.Block:
        return self._blocks("triggers", lambda: [C.triggers(g, self.corpus, grams, self.p)])[0]

    # ---- the tables ----------------------------------------------------------------
    def todo(self, name: str, path: Path) -> bool:
        """Whether table ``name`` must be (re)written; if so its record is dropped first."""
        if self.steps.record(name, self.keys[name]) is not None and path.is_file():
            return False
        self.steps.drop(name)
        return True

    def done(self, name: str, **info: Any) -> None:
        self.steps.finish(name, self.keys[name], **info)

    def info(self, name: str) -> dict[str, Any]:
        rec = self.steps.record(name, self.keys[name])
        assert rec is not None
        return rec
