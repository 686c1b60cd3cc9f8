"""A results folder in a few numbers: each measure with its parameter, the four classes,
behaviours, the noise sweep and the longest copied spans.

Each class comes with one sentence on what it means, filled with the thresholds
classify recorded (``class_meaning``; the report shows the same sentence), and its
top rows by rank; a contingent row carries the model's and the corpus's top
continuations of its trigger.

The demo prints this; every number comes from a macro of ``corpusmap sql`` (the
``query`` of each measure row says which), so the console and SQL agree.
Parameters come from ``measures.default_params``.

What it leaves out: plots and the full tables (the report, ``corpusmap sql``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from corpusmap.query.measures import COPY_RATE, MEMORIZATION, NOVELTY, default_params
from corpusmap.query.sql import connect

CLASS_MEANING = {
    "shared": "n-grams ({n_min}-{n_max} tokens) the model writes in {min_generations}+ "
    "generations that also occur in the corpus",
    "idiosyncratic": "n-grams the model writes in {min_generations}+ generations that never "
    "occur in the corpus: its own phrasing",
    "contingent": "a trigger of {trigger_n} tokens in the corpus and the generations, after "
    "which the model "
    "continues the same way in {support}+ generations while the corpus does so at most "
    "{eps_pct} of the time (same trigger, different behaviour)",
    "unexpressed": "corpus n-grams frequent enough to be expected {e_min:g}+ times in the "
    "generations (Poisson p < {alpha:g}) that the model never writes",
}


def class_meaning(cls: str, thresholds: dict[str, Any]) -> str:
    """One sentence on what class ``cls`` means, with the thresholds classify used."""
    return CLASS_MEANING[cls].format(**thresholds, eps_pct=f"{100 * thresholds['eps']:g}%")


def _top(text: str | None) -> list[dict[str, Any]]:
    """The JSON list of top continuations a contingent row carries (empty when none)."""
    return json.loads(text) if text else []


def _rows(con: Any, query: str) -> list[dict[str, Any]]:
    cur = con.execute(query)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def summary_for(results: str | os.PathLike, examples: int = 3) -> dict[str, Any]:
    """The summary of one results folder (see the module docstring)."""
    folder = Path(results)
    con = connect(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    median = con.execute("SELECT median(n_tokens) FROM generations").fetchone()[0]
    p = default_params(manifest, median)
    measures = []
    for m, value in ((COPY_RATE, p["L"]), (MEMORIZATION, p["k"]), (NOVELTY, p["n"])):
        query = f"SELECT * FROM {m.key}({value})"
        found = _rows(con, query)  # no row: nothing to measure (no corpus-prompted generation)
        row = found[0] if found else {m.key: None, m.count_name: 0}
        measures.append(
            {
                "label": m.label(value),
                "value": row[m.key],
                "n": row[m.count_name],
                "query": query,
                "definition": m.definition,
            }
        )
    human = _rows(con, f"SELECT * FROM baseline_novelty({p['n']})") if _has(con, "baseline") else []
    cols = {d[0] for d in con.execute("SELECT * FROM generations LIMIT 0").description}
    by_kind = []
    if "prompt_kind" in cols:
        by_kind = _rows(
            con,
            f"SELECT prompt_kind AS kind, count(*) AS n, {COPY_RATE.sql(p['L'])} AS copy, "
            f"avg(CASE WHEN prefix_match IS NOT NULL THEN (prefix_match >= {p['k']})::DOUBLE END)"
            f" AS memorized, {NOVELTY.sql(p['n'])} AS novelty "
            "FROM generations GROUP BY ALL ORDER BY min(prompt_id)",
        )
    classes = {}
    thresholds = manifest.get("patterns", {}).get("thresholds")
    if _has(con, "patterns") and thresholds:
        for cls in CLASS_MEANING:
            top = _rows(
                con,
                "SELECT pattern, count_corpus, count_generations, n_generations, "
                "expected_generations, continuation, corpus_top, model_top FROM patterns "
                f"WHERE class = '{cls}' "
                "ORDER BY rank NULLS LAST, keyness DESC NULLS LAST",
            )
            for t in top[:examples]:
                t["corpus_top"], t["model_top"] = _top(t["corpus_top"]), _top(t["model_top"])
            classes[cls] = {
                "count": len(top),
                "meaning": class_meaning(cls, thresholds),
                "top": top[:examples],
            }
    behaviors = (
        _rows(
            con,
            "SELECT behavior, rate_corpus, rate_generations, mi_bits FROM behaviors "
            "ORDER BY mi_bits DESC NULLS LAST",
        )
        if _has(con, "behaviors")
        else []
    )
    sweep = (
        _rows(con, f"SELECT * FROM noise_sweep({p['k']}, {p['L']}, {p['n']})")
        if {"noise_rate", "original_prompt_id"} <= cols
        else []
    )
    spans = (
        _rows(
            con,
            "SELECT s.gen_id, s.length, s.text FROM spans s WHERE NOT s.in_prompt "
            "QUALIFY row_number() OVER (PARTITION BY s.gen_id ORDER BY s.length DESC, s.start) = 1 "
            "ORDER BY s.length DESC, s.gen_id LIMIT 5",
        )
        if _has(con, "spans")
        else []
    )
    return {
        "params": p,
        "measures": measures,
        "human_novelty": human,
        "by_kind": by_kind,
        "classes": classes,
        "behaviors": behaviors,
        "sweep": sweep,
        "spans": spans,
    }


def _has(con: Any, view: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [view]
    ).fetchone()
    return bool(found and found[0])
