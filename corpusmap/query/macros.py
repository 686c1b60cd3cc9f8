"""DuckDB macro definitions for ``corpusmap sql``: each macro's SQL text, kept in one place.

``corpusmap.query.sql.connect`` creates these after its views; a macro whose
columns are missing from the results is skipped there. This module holds only
SQL text, no connection logic.
"""

from __future__ import annotations

MACROS = """
CREATE MACRO copy_rate(L) AS TABLE
  SELECT results, model, count(*) AS n, avg((longest_nonprompt_match >= L)::DOUBLE) AS copy_rate
  FROM generations GROUP BY ALL ORDER BY ALL;
CREATE MACRO memorization_rate(k) AS TABLE
  SELECT results, model, count(*) AS n, avg((prefix_match >= k)::DOUBLE) AS memorization_rate
  FROM generations WHERE prefix_match IS NOT NULL GROUP BY ALL ORDER BY ALL;
CREATE MACRO novelty(n) AS TABLE
  SELECT results, model, count(novelty[n]) AS n_generations, avg(novelty[n]) AS novelty
  FROM generations GROUP BY ALL ORDER BY ALL;
CREATE MACRO extraction_by_duplicates() AS TABLE
  SELECT results, model, CASE WHEN dup_count = 0 THEN '0' WHEN dup_count = 1 THEN '1'
    WHEN dup_count <= 3 THEN '2-3'
    WHEN dup_count <= 10 THEN '4-10' WHEN dup_count <= 100 THEN '11-100' ELSE '>100'
    END AS duplicates,
    min(dup_count) AS min_count, count(*) AS n, avg(extracted::DOUBLE) AS extraction_rate
  FROM generations WHERE extracted IS NOT NULL GROUP BY ALL ORDER BY results, model, min_count;
"""
BASELINE_MACRO = """
CREATE MACRO baseline_novelty(n) AS TABLE
  SELECT results, count(novelty[n]) AS n_texts, avg(novelty[n]) AS novelty
  FROM baseline GROUP BY ALL ORDER BY ALL;
"""
