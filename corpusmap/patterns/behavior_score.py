"""Evaluate behaviours on corpus and generations, classify them, score them in bits.

For each behaviour B (see ``behaviors``):

* **Counts.** A literal is counted exactly: through the corpus index (its tokens,
  one ``count``) and on the generations index's documents; its opportunities
  are the n-gram positions of its length. A regex or function runs on a uniform
  sample of ``corpus_sample`` corpus documents (seeded by ``seed``; the number is
  in ``sample_docs``) and on every output; its opportunities are the tokens of
  the texts evaluated, so long corpus documents and short outputs compare.
* **Class**, by the same rules as n-grams, first match wins: *contingent* (when
  the dump has true continuations: among generations whose prompt fires B, the
  model's majority outcome, B firing on the output or not, holds in >= s
  generations, is the outcome of <= eps of the true continuations of those
  prompts, and the G² p-value < alpha); *idiosyncratic* (fires in >= k
  generations, never in the corpus); *unexpressed* (never in the generations,
  expected >= e_min, Poisson p < alpha); *shared* (fires in >= k generations and
  occurs in the corpus); otherwise null.
* **Explanatory power**: the mutual information in bits (Miller–Madow) between
  "B fires on the prompt" and the output feature (``features``), with a 95%
  bootstrap interval.

What it leaves out: corpus counts of regex/function behaviours are estimates
from the sample (exact only for literals).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa

from corpusmap.errors import CorpusmapError
from corpusmap.patterns.behaviors import Behavior
from corpusmap.patterns.generations_index import Generations
from corpusmap.patterns.mi import bootstrap_mi, mutual_information
from corpusmap.patterns.params import PatternParams
from corpusmap.patterns.sides import Side
from corpusmap.patterns.stats import g2_test, log_ratio, poisson_p_zero
from corpusmap.tokenizer.batch import TokenBatch

SCHEMA = pa.schema([
    ("behavior", pa.string()), ("type", pa.string()), ("spec", pa.string()),
    ("class", pa.string()), ("count_corpus", pa.int64()), ("corpus_opportunities", pa.int64()),
    ("rate_corpus", pa.float64()), ("count_generations", pa.int64()),
    ("n_generations", pa.int64()), ("generation_opportunities", pa.int64()),
    ("rate_generations", pa.float64()), ("expected_generations", pa.float64()),
    ("log_ratio", pa.float64()), ("g2", pa.float64()), ("p_value", pa.float64()),
    ("feature", pa.string()), ("mi_bits", pa.float64()), ("mi_low", pa.float64()),
    ("mi_high", pa.float64()), ("mi_pairs", pa.int64()), ("sample_docs", pa.int64()),
])  # fmt: skip


@dataclass
class Counts:
    """One behaviour on every side: totals, opportunities, per-generation counts."""

    count_t: int
    opp_t: int
    sample_docs: int | None
    output: np.ndarray  # per table row
    prompt: np.ndarray
    continuation: np.ndarray | None  # per table row; -1 where there is none
    opp_g: int


class Context:
    """The texts behaviours run on, tokenized or sampled once for all behaviours."""

    def __init__(
        self,
        t: Side,
        g: Generations,
        table: pa.Table,
        encoded: dict[str, TokenBatch],
        p: PatternParams,
    ) -> None:
        self.t, self.g, self.table, self.p = t, g, table, p
        self.encoded = encoded  # prompts and continuations in G's ids, tokenized once
        self.n = table.num_rows
        self.outputs = [x or "" for x in table.column("output").to_pylist()]
        self.prompts = [x or "" for x in table.column("prompt").to_pylist()]
        cont = (
            table.column("continuation").to_pylist()
            if "continuation" in table.column_names
            else None
        )
        self.continuations: list[str | None] | None = cont

    @cached_property
    def sample(self) -> tuple[list[str], int]:
        """Texts of the sampled corpus documents and their total tokens."""
        ix = self.t
        rng = np.random.default_rng(self.p.seed)
        ids = np.sort(
            rng.choice(ix.n_docs, size=min(self.p.corpus_sample, ix.n_docs), replace=False)
        )
        return [ix.document(int(d)) for d in ids], int(self.t.doc_lengths[ids].sum())

    def literal(self, b: Behavior) -> Counts:
        lit_t = np.asarray(self.t.tokenizer.encode(b.spec), dtype=np.int64)
        lit_g = np.asarray(self.g.tokenizer.encode(b.spec), dtype=np.int64)
        if lit_t.size == 0:
            raise CorpusmapError(f"{b.where}: the literal {b.spec!r} encodes to no tokens")
        known_t = bool((lit_t < self.t.spec.vocab_size).all())
        known_g = bool((lit_g < self.g.tokenizer.spec.vocab_size).all())
        count_t = int(self.t.count(TokenBatch.from_items([lit_t]))[0]) if known_t else 0

        def per_seq(batch: TokenBatch) -> np.ndarray:
            return batch.count_in(lit_g) if known_g else np.zeros(len(batch), dtype=np.int64)

        output = per_seq(self.g.outputs)  # every table row (an empty output counts 0)
        cont = None
        if self.continuations is not None:
            cont = np.where(
                [c is not None for c in self.continuations],
                per_seq(self.encoded["continuation"]),
                -1,
            )
        prompt = per_seq(self.encoded["prompt"])
        opp_t, opp_g = self.t.opportunities(lit_t.size), self.g.opportunities(lit_g.size)
        return Counts(
            count_t=count_t,
            opp_t=opp_t,
            sample_docs=None,
            output=output,
            prompt=prompt,
            continuation=cont,
            opp_g=opp_g,
        )

    def textual(self, b: Behavior) -> Counts:
        texts, tokens = self.sample
        count_t = sum(b.count_text(x) for x in texts)

        def run(xs: list[str]) -> np.ndarray:
            return np.array([b.count_text(x) for x in xs], dtype=np.int64)

        cont = None
        if self.continuations is not None:
            cont = np.array([b.count_text(c) if c is not None else -1 for c in self.continuations],
                            dtype=np.int64)  # fmt: skip
        return Counts(
            count_t=count_t,
            opp_t=tokens,
            sample_docs=len(texts),
            output=run(self.outputs),
            prompt=run(self.prompts),
            continuation=cont,
            opp_g=self.g.opportunities(1),
        )


def _contingent(c: Counts, table: pa.Table, p: PatternParams) -> bool:
    """Same trigger (B on the prompt), different response (B on output vs continuation)."""
    if c.continuation is None:
        return False
    rows = (c.prompt > 0) & (c.continuation >= 0)
    if not rows.any():
        return False
    model = c.output[rows] > 0
    if model.mean() == 0.5:  # no majority outcome
        return False
    major = bool(model.mean() > 0.5)
    support = int((model == major).sum())
    _, first = np.unique(np.asarray(table.column("prompt_id").to_pylist(), dtype=object)[rows],
                         return_index=True)  # fmt: skip
    corpus = c.continuation[rows][first] > 0
    hits_t = int((corpus == major).sum())
    _, pval = g2_test(support, hits_t, int(rows.sum()), len(corpus))
    return bool(support >= p.support and hits_t / len(corpus) <= p.eps and pval < p.alpha)


def score_behaviors(
    behaviors: list[Behavior],
    t: Side,
    g: Generations,
    table: pa.Table,
    encoded: dict[str, TokenBatch],
    feature: tuple[str, np.ndarray | None, np.ndarray],
    p: PatternParams,
) -> pa.Table:
    """The ``behaviors`` table: one row per behaviour."""
    ctx = Context(t, g, table, encoded, p)
    fname, fvalues, fvalid = feature
    rows: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for b in behaviors:
        c = ctx.literal(b) if b.type == "literal" else ctx.textual(b)
        count_g, n_gen = int(c.output.sum()), int((c.output > 0).sum())
        rate_t = c.count_t / max(c.opp_t, 1)
        expected = rate_t * c.opp_g
        g2, pval = g2_test(count_g, c.count_t, c.opp_g, c.opp_t)
        if _contingent(c, table, p):
            cls: str | None = "contingent"
        elif n_gen >= p.min_generations and c.count_t == 0:
            cls = "idiosyncratic"
        elif count_g == 0 and expected >= p.e_min and float(poisson_p_zero(expected)) < p.alpha:
            cls = "unexpressed"
        elif n_gen >= p.min_generations:
            cls = "shared"
        else:
            cls = None
        y = (c.output > 0) if fvalues is None else fvalues
        x = c.prompt > 0
        mi = mutual_information(x[fvalid], y[fvalid])
        low, high = bootstrap_mi(x[fvalid], y[fvalid], seed=p.seed)
        values = [b.name, b.type, b.spec, cls, c.count_t, c.opp_t, rate_t, count_g, n_gen, c.opp_g,
                  count_g / max(c.opp_g, 1), expected,
                  float(log_ratio(count_g, c.count_t, c.opp_g, c.opp_t)), g2, pval, fname, mi,
                  low, high, int(fvalid.sum()), c.sample_docs]  # fmt: skip
        for name, v in zip(SCHEMA.names, values, strict=True):
            rows[name].append(v)
    return pa.table(rows, schema=SCHEMA)
