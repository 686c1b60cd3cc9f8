"""DuckDB macros of ``corpusmap sql``, built from the measure definitions.

``copy_rate(L)``, ``memorization_rate(k)`` and ``novelty(n)`` take their SQL
from ``measures.py``, so a macro and the label beside its number cannot drift
apart; ``extraction_by_duplicates()`` uses its duplicate bins, and
``noise_sweep(k, L, n)`` gives the three measures per noise kind and rate of a
robustness sweep (``corpusmap prompts --noise a,b --noise-rate 0,x,y``).
Each macro returns one row per results folder and model (and bin, kind, rate).

``corpusmap.query.sql.connect`` creates these after its views; a macro whose
columns are missing from the results is skipped there. This module holds only
SQL text, no connection logic.
"""

from __future__ import annotations

from corpusmap.query.measures import (
    COPY_RATE,
    MEMORIZATION,
    NOVELTY,
    Measure,
    duplicate_case,
)


def _measure_macro(m: Measure) -> str:
    where = f" WHERE {m.where.format(p=m.param)}" if m.where else ""
    return (
        f"CREATE MACRO {m.key}({m.param}) AS TABLE\n"
        f"  SELECT results, model, {m.count.format(p=m.param)} AS {m.count_name}, "
        f"{m.sql(m.param)} AS {m.key}\n"
        f"  FROM generations{where} GROUP BY ALL ORDER BY ALL;\n"
    )


EXTRACTION_BY_DUPLICATES = f"""
CREATE MACRO extraction_by_duplicates() AS TABLE
  SELECT results, model, {duplicate_case()} AS duplicates,
    min(dup_count) AS min_count, count(*) AS n, avg(extracted::DOUBLE) AS extraction_rate
  FROM generations WHERE extracted IS NOT NULL GROUP BY ALL ORDER BY results, model, min_count;
"""
# Rows of a sweep carry noise_rate (0 for the clean prompt); the clean rows whose
# prompts were perturbed join every kind's curve at rate 0.
NOISE_SWEEP = f"""
CREATE MACRO noise_sweep(k, L, n) AS TABLE
  WITH g AS (SELECT * FROM generations WHERE noise_rate IS NOT NULL),
  swept AS (SELECT DISTINCT results, original_prompt_id FROM g WHERE noise IS NOT NULL),
  kinds AS (SELECT DISTINCT results, noise AS kind FROM g WHERE noise IS NOT NULL),
  points AS (
    SELECT results, model, noise, noise_rate, prefix_match, longest_nonprompt_match, novelty
    FROM g WHERE noise IS NOT NULL
    UNION ALL
    SELECT g.results, g.model, kinds.kind, g.noise_rate, g.prefix_match,
      g.longest_nonprompt_match, g.novelty
    FROM g JOIN swept ON g.results = swept.results
      AND g.original_prompt_id = swept.original_prompt_id
    JOIN kinds ON g.results = kinds.results WHERE g.noise IS NULL)
  SELECT results, model, noise, noise_rate, count(*) AS n,
    {MEMORIZATION.sql("k")} AS memorization_rate, {COPY_RATE.sql("L")} AS copy_rate,
    {NOVELTY.sql("n")} AS novelty
  FROM points GROUP BY ALL ORDER BY ALL;
"""
MACROS = "".join(_measure_macro(m) for m in (COPY_RATE, MEMORIZATION, NOVELTY))
MACROS += EXTRACTION_BY_DUPLICATES + NOISE_SWEEP
BASELINE_MACRO = f"""
CREATE MACRO baseline_novelty(n) AS TABLE
  SELECT results, count(novelty[n]) AS n_texts, {NOVELTY.sql("n")} AS novelty
  FROM baseline GROUP BY ALL ORDER BY ALL;
"""
