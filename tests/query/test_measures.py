"""Measures defined once: macros, labels, duplicate bins, parameters, and the noise sweep."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from corpusmap.index.opening import open_index
from corpusmap.match import classify
from corpusmap.prompts import sweep
from corpusmap.query.macros import MACROS
from corpusmap.query.measures import (
    COPY_RATE,
    DUPLICATE_BINS,
    MEASURES,
    MEMORIZATION,
    NOVELTY,
    bin_label,
    default_params,
)
from corpusmap.query.sql import sql
from tests.conftest import build_from_docs


def test_labels_carry_the_parameter_and_macros_use_the_definitions() -> None:
    assert COPY_RATE.label(8) == "copy rate (L=8)"
    assert MEMORIZATION.label(4) == "memorization rate (k=4)"
    assert NOVELTY.label(3) == "novelty (n=3)"
    for m in (COPY_RATE, MEMORIZATION, NOVELTY):
        assert f"CREATE MACRO {m.key}({m.param})" in MACROS and m.sql(m.param) in MACROS


def test_duplicate_bins_read_the_same_everywhere() -> None:
    from corpusmap.query.report.tables import bucket_range

    labels = [bin_label(lo, hi) for lo, hi in DUPLICATE_BINS]
    assert labels == ["0", "1", "2-3", "4-10", "11-100", ">100"]
    assert [bucket_range(b) for b in range(len(DUPLICATE_BINS))] == labels
    assert all(f"'{label}'" in MACROS for label in labels)


def test_default_params_follow_the_run() -> None:
    """k is what classify recorded; L and n scale with the median output length."""
    manifest = {"plan": {"params": {"extraction_k": 8, "min_span": 6, "max_n": 10}}}
    assert default_params(manifest, 25) == {"k": 8, "L": 8, "n": 4}
    assert default_params(manifest, 600) == {"k": 8, "L": 50, "n": 10}
    assert default_params({"plan": {"params": {"min_span": 6}}}, 9)["L"] == 6  # >= min_span
    assert default_params({}, 30)["k"] == 10  # no k recorded: L


def test_readme_glossary_has_every_measure() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    glossary = readme.split("### Glossary of measures", 1)[1].split("\n## ", 1)[0]
    for m in MEASURES:
        assert f"**{m.name} ({m.param})**" in glossary and m.definition in glossary


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """Two clean corpus prompts swept over two kinds at rates 0, 0.1, 0.5 (2 x 5 rows);
    outputs copy the true continuation unless the prompt was perturbed at 0.5."""
    tmp = tmp_path_factory.mktemp("sweep")
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(50)]
    docs = [" ".join(rng.choice(words, size=30)) for _ in range(6)]
    ix = open_index(build_from_docs(tmp, docs, tokenizer="words"))
    clean = pa.table(
        {
            "prompt_id": ["a", "b"],
            "prompt": [" ".join(docs[d].split()[:8]) for d in (0, 1)],
            "continuation": [" ".join(docs[d].split()[8:20]) for d in (0, 1)],
            "doc_id": [0, 1],
        }
    )
    table = sweep(clean, ["case", "char-drop"], [0, 0.1, 0.5])
    rows = table.to_pylist()
    for r in rows:
        r["gen_id"] = r["prompt_id"]
        r["output"] = "x y z q" if (r["noise_rate"] or 0) >= 0.5 else r["continuation"]
    results = classify(pa.Table.from_pylist(rows), ix, tmp / "res", min_span=3,
                       extraction_k=4, minhash=False, patterns=False)  # fmt: skip
    return results, rows


def test_noise_sweep_macro_matches_a_python_reference(swept) -> None:
    results, rows = swept
    got = {
        (r[2], r[3]): r[4:] for r in sql(results, "SELECT * FROM noise_sweep(4, 6, 2)").fetchall()
    }
    # reference: the clean rows join every kind's curve at rate 0
    want = {}
    for kind in ("case", "char-drop"):
        for rate in (0.0, 0.1, 0.5):
            pts = [r for r in rows if (r["noise"] == kind or r["noise"] is None)
                   and r["noise_rate"] == rate]  # fmt: skip
            copied = [r["output"] == r["continuation"] for r in pts]
            want[(kind, rate)] = (len(pts), sum(copied) / len(pts))
    assert set(got) == set(want)
    for key, (n, share) in want.items():
        n_got, memorized, copy, novelty = got[key]
        assert n_got == n and memorized == pytest.approx(share) and copy == pytest.approx(share)
        assert (novelty > 0.5) == (share == 0.0)
    manifest = json.loads((results / "manifest.json").read_text())
    assert manifest["plan"]["params"]["extraction_k"] == 4  # recorded


def test_report_draws_one_sweep_plot_per_measure(swept, tmp_path) -> None:
    from corpusmap.query.report import report

    page = report(swept[0], tmp_path / "rep")
    html = page.read_text(encoding="utf-8")
    for name in ("memorization_rate", "copy_rate", "novelty"):
        assert (tmp_path / "rep" / f"sweep_{name}.png").stat().st_size > 1000
    assert "Robustness" in html and "char-drop" in html and "memorization rate (k=4)" in html
