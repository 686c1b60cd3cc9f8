"""The measures, each defined once: name, parameter, unit, definition and SQL.

Everything that shows a measure takes it from here: the SQL macros
(``macros.py`` builds ``copy_rate(L)``, ``memorization_rate(k)``, ``novelty(n)``
from ``Measure.sql``), the demo's console summary, the report's labels and the
README glossary (a test checks the README carries each definition). A measure
is always shown with its parameter, ``copy rate (L=8)``, because its value
means nothing without it.

``default_params`` picks the parameters for a results folder from what it
holds: k is the extraction k classify recorded; L and n scale with the median
output length, so a demo of 25-word outputs is not measured at L=50.

What it leaves out: per-span and per-pattern statistics (``patterns``), and
the plots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measure:
    """One measure over the ``generations`` view, per results folder and model."""

    key: str  # the SQL macro name
    name: str  # words for labels
    param: str  # its parameter's letter
    unit: str  # what the value is a share or mean of
    definition: str  # one sentence, with the parameter
    value: str  # SQL aggregate; ``{p}`` is the parameter
    count: str = "count(*)"  # SQL count of the generations it averages over
    count_name: str = "n"
    where: str = ""  # SQL filter on generations

    def label(self, value: Any) -> str:
        """``copy rate (L=8)``: the name with its parameter."""
        return f"{self.name} ({self.param}={value})"

    def sql(self, p: Any) -> str:
        """The aggregate with parameter ``p`` substituted (a number or a macro argument)."""
        return self.value.format(p=p)


COPY_RATE = Measure(
    "copy_rate", "copy rate", "L", "share of generations",
    "share of generations whose output holds a corpus match of at least L tokens that is "
    "not also in its prompt",
    "avg((longest_nonprompt_match >= {p})::DOUBLE)",
)  # fmt: skip
MEMORIZATION = Measure(
    "memorization_rate", "memorization rate", "k", "share of corpus-prompted generations",
    "share of generations prompted with corpus text whose first k tokens reproduce the true "
    "continuation (k-extractable)",
    "avg((prefix_match >= {p})::DOUBLE)", where="prefix_match IS NOT NULL",
)  # fmt: skip
NOVELTY = Measure(
    "novelty", "novelty", "n", "mean share of n-grams",
    "mean share of an output's n-grams that occur nowhere in the corpus",
    "avg(novelty[{p}])", count="count(novelty[{p}])", count_name="n_generations",
)  # fmt: skip
COVERAGE = Measure(
    "coverage",
    "coverage",
    "L",
    "mean share of tokens",
    "mean share of an output's tokens that lie inside corpus matches of at least L tokens "
    "(L from classify --coverage-lengths)",
    "",  # a list column indexed by position in coverage_lengths: no macro
)
MEASURES = (COPY_RATE, MEMORIZATION, NOVELTY, COVERAGE)
EXTRACTION_BY_DUPLICATES = (
    "memorization rate at the k classify recorded (extraction_k), per bin of how often the "
    "prompt + true continuation occurs in the corpus"
)
NOISE_SWEEP = (
    "memorization rate (k), copy rate (L) and novelty (n) of swept prompts per noise kind "
    "and rate; the clean prompts are every kind's rate-0 point"
)
# Corpus duplicate-count bins of extraction_by_duplicates(): (low, high), both included.
DUPLICATE_BINS: tuple[tuple[int, int | None], ...] = (
    (0, 0), (1, 1), (2, 3), (4, 10), (11, 100), (101, None),
)  # fmt: skip


def bin_label(low: int, high: int | None) -> str:
    """``1``, ``2-3``, ``>100``: how a duplicate bin reads everywhere."""
    if high is None:
        return f">{low - 1}"
    return str(low) if low == high else f"{low}-{high}"


def duplicate_case(column: str = "dup_count") -> str:
    """SQL CASE giving the bin label of a duplicate count."""
    arms = " ".join(
        f"WHEN {column} <= {hi} THEN '{bin_label(lo, hi)}'"
        for lo, hi in DUPLICATE_BINS
        if hi is not None
    )
    return f"CASE {arms} ELSE '{bin_label(*DUPLICATE_BINS[-1])}' END"


def default_params(manifest: dict[str, Any], median_tokens: float | None) -> dict[str, int]:
    """k, L and n for a results folder: k recorded by classify, L and n from output length.

    L = median output length / 3, at least classify's min_span and at most 50;
    n = median output length / 6, within 2..max_n; k = extraction_k, or L when
    classify compared whole continuations.
    """
    params = (manifest.get("plan") or {}).get("params") or {}
    m = float(median_tokens or 0)
    min_span = int(params.get("min_span") or 1)
    L = int(min(50, max(min_span, round(m / 3))))
    n = int(min(params.get("max_n") or 10, max(2, round(m / 6))))
    k = int(params.get("extraction_k") or L)
    return {"k": k, "L": L, "n": n}
