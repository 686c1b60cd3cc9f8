"""Turn class members into ``patterns`` rows: statistics, ranking, examples, text.

Statistics are computed for every member of a class at once (numpy); ranking
keeps the ``top_k`` highest keyness rows per class (ties: more generations, then
more corpus occurrences, then longer, then token order, so the order is
deterministic). Only kept rows pay for the per-row work: decoding the text,
looking up up to ``examples`` corpus documents holding the n-gram (for a trigger
row: the trigger; one batched ``locate_docs``), the ids of the first ``examples``
generations holding it (for a trigger row: those where the trigger is followed by
the model's continuation; one batched ``first_docs`` over G's shards) and, for triggers, both
next-token distributions (``ntd`` on each side, exact context) for
``corpus_top``, ``model_top`` and the Jensen-Shannon ``divergence``.

What it leaves out: writing the file (``run.py``) and behaviours (``behaviors``).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from corpusmap.patterns.classes import Block
from corpusmap.patterns.generations_index import Generations
from corpusmap.patterns.params import PatternParams
from corpusmap.patterns.sides import Side
from corpusmap.patterns.stats import chi2_1_sf, g2_stat, js_divergence, keyness, log_ratio
from corpusmap.tokenizer.batch import TokenBatch

SCHEMA = pa.schema([
    ("pattern", pa.string()), ("tokens", pa.list_(pa.int64())), ("n", pa.int64()),
    ("kind", pa.string()), ("class", pa.string()), ("count_corpus", pa.int64()),
    ("count_generations", pa.int64()), ("n_generations", pa.int64()),
    ("expected_generations", pa.float64()), ("rate_corpus", pa.float64()),
    ("rate_generations", pa.float64()), ("opportunities_corpus", pa.int64()),
    ("opportunities_generations", pa.int64()), ("log_ratio", pa.float64()),
    ("g2", pa.float64()), ("p_value", pa.float64()), ("p_poisson", pa.float64()),
    ("keyness", pa.float64()), ("rank", pa.int64()), ("examples", pa.list_(pa.string())),
    ("doc_ids", pa.list_(pa.int64())), ("continuation", pa.string()),
    ("corpus_top", pa.string()), ("model_top", pa.string()), ("divergence", pa.float64()),
])  # fmt: skip
TOP = 5  # continuations shown per side for a trigger


def _concat(blocks: list[Block]) -> dict[str, np.ndarray]:
    """Columns of several blocks; ``blk``/``row`` say where each row's tokens are."""
    names = ("count_t", "count_g", "n_gen", "opp_t", "opp_g", "cls")
    cols = {k: np.concatenate([getattr(b, k) for b in blocks]) for k in names}
    cols["n"] = np.concatenate([np.full(len(b.toks), b.n) for b in blocks])
    cols["blk"] = np.concatenate([np.full(len(b.toks), k) for k, b in enumerate(blocks)])
    cols["row"] = np.concatenate([np.arange(len(b.toks)) for b in blocks])
    cols["next"] = np.concatenate([b.extra.get("next", np.full(len(b.toks), -1)) for b in blocks])
    return cols


def rank_class(blocks: list[Block], cls: str, top_k: int) -> dict[str, Any]:
    """Members of ``cls`` with their statistics, best first, at most ``top_k`` (0: all).

    Ties in keyness go to more generations, then more corpus occurrences, then
    longer n-grams, then the order of the input (by length, then token order).
    """
    blocks = [b for b in blocks if len(b.toks)]
    if not blocks:
        return {"toks": [], "total": 0}
    c = _concat(blocks)
    mask = c["cls"] == cls
    c = {k: v[mask] for k, v in c.items()}
    total = int(mask.sum())
    over = np.full(total, cls != "unexpressed")
    key = keyness(c["n_gen"], c["count_t"], c["opp_g"], c["opp_t"], over)
    order = np.lexsort((-c["n"], -c["count_t"], -c["n_gen"], -key))  # last key sorts first
    if top_k:
        order = order[:top_k]
    out: dict[str, Any] = {k: v[order] for k, v in c.items()}
    out["toks"] = [blocks[b].toks[r] for b, r in zip(out["blk"], out["row"], strict=True)]
    out["keyness"] = key[order]
    out["total"] = total
    return out


def build_rows(
    ranked: dict[str, dict[str, Any]],
    g: Generations,
    t: Side,
    gen_ids: list[str],
    p: PatternParams,
) -> pa.Table:
    """The ``patterns`` table from the ranked members of each class."""
    cols: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    examples = _examples(ranked, g, p.examples)
    for cls, r in ranked.items():
        m = len(r["toks"])
        if m == 0:
            continue
        a, b = r["count_g"].astype(np.float64), r["count_t"].astype(np.float64)
        o_g, o_t = r["opp_g"].astype(np.float64), r["opp_t"].astype(np.float64)
        g2 = g2_stat(a, b, o_g, o_t)
        rate_t = b / np.maximum(o_t, 1)
        expected = rate_t * o_g
        is_trigger = cls == "contingent"
        # corpus documents holding the n-gram (for a trigger: the trigger)
        in_corpus = (o_t > 0) if is_trigger else (b > 0)
        hits = [tk for tk, ok in zip(r["toks"], in_corpus, strict=True) if ok]
        located = iter(t.locate_docs(hits, limit=p.examples) if hits else [])
        for i in range(m):
            toks = r["toks"][i]
            docs = examples[cls][i]
            cols["pattern"].append(g.tokenizer.decode(toks))
            cols["tokens"].append(toks.tolist())
            cols["examples"].append([gen_ids[int(g.rows[d])] for d in docs])
            cols["doc_ids"].append(next(located) if in_corpus[i] else [])
            extra = _trigger_cols(g, t, toks, int(r["next"][i])) if is_trigger else {}
            for name in ("continuation", "corpus_top", "model_top", "divergence"):
                cols[name].append(extra.get(name))
        cols["n"] += r["n"].tolist()
        cols["kind"] += ["trigger" if is_trigger else "ngram"] * m
        cols["class"] += [cls] * m
        cols["count_corpus"] += r["count_t"].tolist()
        cols["count_generations"] += r["count_g"].tolist()
        cols["n_generations"] += r["n_gen"].tolist()
        cols["expected_generations"] += expected.tolist()
        cols["rate_corpus"] += rate_t.tolist()
        cols["rate_generations"] += (a / np.maximum(o_g, 1)).tolist()
        cols["opportunities_corpus"] += r["opp_t"].tolist()
        cols["opportunities_generations"] += r["opp_g"].tolist()
        cols["log_ratio"] += log_ratio(a, b, o_g, o_t).tolist()
        cols["g2"] += g2.tolist()
        cols["p_value"] += chi2_1_sf(g2).tolist()
        cols["p_poisson"] += np.exp(-expected).tolist() if cls == "unexpressed" else [None] * m
        cols["keyness"] += r["keyness"].tolist()
        cols["rank"] += list(range(1, m + 1))
    return pa.table(cols, schema=SCHEMA)


def _examples(
    ranked: dict[str, dict[str, Any]], g: Generations, limit: int
) -> dict[str, list[list[int]]]:
    """Per class and row, the first ``limit`` G documents holding what the row counts.

    n-gram rows: the n-gram; trigger rows: the trigger and the model's continuation;
    unexpressed rows: none (never generated). One batched query for every class.
    """
    queries: list[np.ndarray] = []
    for cls, r in ranked.items():
        if cls == "contingent":
            queries += [
                np.append(tk, nx) for tk, nx in zip(r["toks"], r.get("next", []), strict=True)
            ]
        elif cls != "unexpressed":
            queries += list(r["toks"])
    found = iter(g.first_docs(TokenBatch.from_items(queries), limit) if queries else [])
    return {
        cls: [[] for _ in r["toks"]] if cls == "unexpressed" else [next(found) for _ in r["toks"]]
        for cls, r in ranked.items()
    }


def _dist(side_index: Any, toks: np.ndarray) -> dict[int, tuple[str, float]]:
    """Next-token distribution after exactly ``toks`` (empty if that context never continues)."""
    res = side_index.ntd(toks)
    if res["length_used"] != len(toks):
        return {}
    return {int(d["token"]): (d["text"], float(d["prob"])) for d in res["distribution"]}


def _trigger_cols(g: Generations, t: Side, toks: np.ndarray, nxt: int) -> dict[str, Any]:
    corpus = _dist(t, toks)
    model = _dist(g.index, toks)

    def top(dist: dict[int, tuple[str, float]], decode: Any) -> str:
        best = sorted(dist.items(), key=lambda kv: (-kv[1][1], kv[0]))[:TOP]
        return json.dumps([{"text": decode([k]), "prob": round(v[1], 6)} for k, v in best],
                          ensure_ascii=False)  # fmt: skip

    return {
        "continuation": g.tokenizer.decode([nxt]),
        "corpus_top": top(corpus, t.tokenizer.decode),
        "model_top": top(model, g.tokenizer.decode),
        "divergence": js_divergence(
            {k: v[1] for k, v in corpus.items()}, {k: v[1] for k, v in model.items()}
        ),
    }
