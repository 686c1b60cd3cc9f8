"""The HTML report over synthetic results folders written directly in the test.

Two kinds of folder are made without the rest of the pipeline: a full one (a
corpus docs table, generations with extraction, spans, a human baseline, patterns
of all four classes and behaviours) and a bare one (generations and spans only,
extraction columns all null). One generation's output plants a ``<script>`` tag, which
must reach the page escaped.
"""

from __future__ import annotations

import base64
import json
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from corpusmap.cli import cli
from corpusmap.query.report import report
from corpusmap.query.report.data import novelty_curves, open_results
from tests.explorer.conftest import pipeline  # noqa: F401  (a fixture: a classified folder)

PLANTED = "<script>alert('pwned')</script>"
LENGTHS = [5, 10, 20]
MAX_N = 4
EXTRACTION = {
    "extracted": pa.bool_(),
    "prefix_match": pa.int64(),
    "token_match_frac": pa.float64(),
    "dup_count": pa.int64(),
}
VOID = {"meta", "img", "br", "hr", "link", "input"}


def _write(folder: Path, table: str, rows: list[dict]) -> None:
    (folder / table).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / table / "part-00000.parquet")


def make_results(folder: Path, model: str, full: bool = True, n: int = 12) -> Path:
    """A results folder of ``n`` generations; ``full`` adds every optional table.

    Generation g has longest_nonprompt_match = 4 * g and n_tokens = 20 + g: the
    median length 25.5 makes the summary's L = round(25.5 / 3) = 8, so copy rate
    (L=8) is the share of g >= 2: 10/12 = 83.3% for n = 12.
    """
    rng = np.random.default_rng(sum(map(ord, model)))
    index = folder.parent / f"{folder.name}-index"
    docs = [
        {
            "doc_id": d,
            "start": 100 * d,
            "length": 100,
            "id": f"doc-{d}",
            "source": "wiki" if d % 2 else "kjv",
            "row": d,
            "meta": "{}",
        }
        for d in range(8)
    ]
    (index / "shard-000").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(docs), index / "shard-000" / "docs.parquet")
    shards = {"format": "corpusmap-index", "shards": [{"name": "shard-000"}]}
    (index / "manifest.json").write_text(json.dumps(shards))
    params = {"coverage_lengths": LENGTHS, "max_n": MAX_N}
    plan = {"index": str(index), "params": params, "n_generations": n, "shard_rows": n}
    folder.mkdir(parents=True)
    manifest = {  # as classify writes it: one finished shard, patterns and behaviours listed
        "format": "corpusmap-results",
        "plan": plan,
        "finished": ["part-00000.parquet"],
        "patterns": {"behaviors": {"file": "behaviors.toml"}},
        "completed_at": "2025-01-01T00:00:00Z",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    gens = []
    for g in range(n):
        cov = sorted(rng.random(len(LENGTHS)).tolist(), reverse=True)
        nov = sorted(rng.random(MAX_N).tolist())
        if g == 0:
            nov[-1] = math.nan  # too short for the longest n-grams
        row = {
            "gen_id": f"{model}-{g}",
            "prompt_id": g,
            "prompt": f"prompt {g}",
            "output": PLANTED if g == 1 else f"output {g} of {model}",
            "n_tokens": 20 + g,
            "longest_match": 4 * g + 2,
            "longest_nonprompt_match": 4 * g,
            "coverage": cov,
            "novelty": nov,
            "self_repetition": 0.1,
            "model": model,
        }
        if full:
            row |= {
                "extracted": (g % 3 == 0) == (g < n // 2),
                "prefix_match": g,
                "token_match_frac": 0.5,
                "dup_count": 1 + g * g,
                "doc_id": g % 8,
                "continuation": f"cont {g}",
            }
        gens.append(row)
    table = pa.Table.from_pylist(gens)
    for name, kind in EXTRACTION.items():  # no corpus prompts: present, all null
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(n, kind))
    (folder / "generations").mkdir()
    pq.write_table(table, folder / "generations" / "part-00000.parquet")
    spans = [
        {
            "gen_id": f"{model}-{g}",
            "start": 0,
            "length": 4 * g,
            "corpus_count": g + 1,
            "in_prompt": g == n - 1,
            "doc_ids": [g % 8],
            "text": f"span <b>{g}</b>",
        }
        for g in range(n)
    ]
    _write(folder, "spans", spans)
    if not full:
        return folder
    base = [
        {
            "prompt_id": g,
            "doc_id": g % 8,
            "continuation": f"cont {g}",
            "n_tokens": 10,
            "longest_match": 3,
            "coverage": [0.2, 0.1, 0.0],
            "novelty": [0.1, 0.3, 0.5, 0.7],
        }
        for g in range(n)
    ]
    _write(folder, "baseline", base)
    pats = []
    for k, cls in enumerate(["shared", "idiosyncratic", "contingent", "unexpressed"] * 3):
        pats.append(
            {
                "pattern": f"{cls} pattern {k}",
                "tokens": [k],
                "n": 2,
                "kind": "ngram",
                "class": cls,
                "count_corpus": 10 * k,
                "count_generations": k,
                "n_generations": n,
                "expected_generations": k / 2,
                "log_ratio": 0.5,
                "g2": 3.0 + k,
                "p_value": 0.01 / (k + 1),
                "keyness": 3.0 + k,
                "rank": k,
                "examples": [f"{model}-1", f"{model}-{k % n}"],
                "doc_ids": [k % 8, 7],
                "continuation": "model says" if cls == "contingent" else None,
                "corpus_top": json.dumps({"corpus says": 9, "other": 1}),
                "model_top": json.dumps([["model says", 0.9]]),
                "divergence": 1.5,
            }
        )
    _write(folder, "patterns", pats)
    behs = [
        {
            "behavior": f"behaviour {b}",
            "type": "regex",
            "class": "shared",
            "count_corpus": 5,
            "corpus_opportunities": 100,
            "rate_corpus": 0.05,
            "count_generations": 2,
            "n_generations": n,
            "rate_generations": 2 / n,
            "g2": 1.0,
            "p_value": 0.3,
            "feature": "source",
            "mi_bits": 0.1 * b,
            "mi_low": 0.05 * b,
            "mi_high": 0.2 * b,
            "sample_docs": [b],
        }
        for b in range(4)
    ]
    _write(folder, "behaviors", behs)
    return folder


class Page(HTMLParser):
    """Checks tags balance and collects image sources, section ids and text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.imgs: list[dict[str, str | None]] = []
        self.ids: list[str] = []
        self.tags: set[str] = set()
        self.feed(text)
        self.close()
        assert self.stack == [], f"unclosed tags {self.stack}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a)
        if tag == "section":
            self.ids.append(str(a["id"]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def _check_page(out: Path) -> tuple[Page, str]:
    text = (out / "index.html").read_text(encoding="utf-8")
    page = Page(text)
    assert page.ids == [
        "summary", "novelty", "coverage", "patterns", "extraction", "behaviors", "top"
    ]  # fmt: skip
    assert "script" not in page.tags and "<script" not in text  # nothing runs
    for img in page.imgs:  # embedded: the page is one file; the PNG beside it is the same image
        src, name = str(img["src"]), str(img["data-file"])
        assert src.startswith("data:image/png;base64,") and "/" not in name
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == (out / name).read_bytes()
    assert not list(out.glob(".*"))  # no temp files left
    return page, text


def test_full_report(tmp_path: Path) -> None:
    results = make_results(tmp_path / "model-a", "model-a")
    index = report(results, tmp_path / "out")
    assert index == tmp_path / "out" / "index.html"
    page, text = _check_page(tmp_path / "out")
    srcs = {img["data-file"] for img in page.imgs}
    assert srcs == {"novelty.png", "coverage.png", "classes.png", "extraction.png", "behaviors.png"}
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in text  # example output
    assert "span &lt;b&gt;10&lt;/b&gt;" in text  # longest copied span, escaped
    assert "span &lt;b&gt;11&lt;/b&gt;" not in text  # in the prompt: not a copy
    assert "doc-3 (wiki)" in text and "doc-2 (kjv)" in text  # doc ids resolved
    assert "copy rate (L=8)" in text and "83.3%" in text  # worked out in make_results
    assert "corpus says: 9" in text and "model says: 0.9" in text  # contingent tops
    assert "human baseline" in text and 'class="note"' not in text


def test_bare_report_skips_sections(tmp_path: Path) -> None:
    results = make_results(tmp_path / "bare", "bare", full=False)
    out = tmp_path / "out"
    report(results, out)
    page, text = _check_page(out)
    assert {img["data-file"] for img in page.imgs} == {"novelty.png", "coverage.png"}
    for why in ("No human baseline", "No patterns", "No extraction results", "No user-defined"):
        assert why in text
    assert "no corpus prompts" in text


@pytest.mark.parametrize("b_full", [True, False])
def test_side_by_side(tmp_path: Path, b_full: bool) -> None:
    """Two models in every plot: each baseline named after its model, a lone one plainly."""
    a = make_results(tmp_path / "model-a", "model-a")
    b = make_results(tmp_path / "model-b", "model-b", full=b_full)
    out = tmp_path / "out"
    report([a, b], out)
    page, text = _check_page(out)
    for src in ("novelty.png", "coverage.png", "extraction.png"):
        alt = str(next(i for i in page.imgs if i["data-file"] == src)["alt"])
        assert "model-a" in alt and ("model-b" in alt) == (src != "extraction.png" or b_full)
    novelty = str(next(i for i in page.imgs if i["data-file"] == "novelty.png")["alt"])
    humans = ["human (model-a)", "human (model-b)"] if b_full else ["human baseline"]
    assert all(h in novelty for h in humans)
    summary = text.split('id="summary"')[1].split("</table>")[0]
    assert "model-a" in summary and "model-b" in summary


def test_novelty_matches_python(tmp_path: Path) -> None:
    """Mean novelty@n per model equals a NaN-skipping mean over the rows."""
    folder = make_results(tmp_path / "m", "m")
    rows = pq.read_table(folder / "generations").to_pylist()
    (series,) = [s for s in novelty_curves(open_results(folder)) if not s.human]
    for k in range(1, MAX_N + 1):
        want = np.nanmean([r["novelty"][k - 1] for r in rows])
        assert series.points[k]["mean"] == pytest.approx(want)
    assert series.points[MAX_N]["n"] == len(rows) - 1


def test_cli(tmp_path: Path) -> None:
    a = make_results(tmp_path / "model-a", "model-a")
    runner = CliRunner()
    res = runner.invoke(cli, ["report", str(a), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(tmp_path / "out" / "index.html")
    res = runner.invoke(cli, ["report", str(tmp_path), "--out", str(tmp_path / "o2")])
    assert res.exit_code == 1 and "not a results folder" in res.output
    assert "HTML report" in runner.invoke(cli, ["report", "--help"]).output


def test_all_null_tables(tmp_path: Path) -> None:
    """Tables present but all null (null-typed columns too): every section is a note."""
    folder = make_results(tmp_path / "nulls", "nulls", full=False, n=3)
    nulls = {
        "generations": pq.read_table(folder / "generations")
        .drop_columns(["coverage", "novelty"])
        .append_column("coverage", pa.nulls(3, pa.list_(pa.float64())))
        .append_column("novelty", pa.nulls(3)),
        "spans": pa.table({c: pa.nulls(2) for c in ("gen_id", "length", "in_prompt", "text")}),
        "baseline": pa.table({c: pa.nulls(2) for c in ("prompt_id", "novelty", "coverage")}),
        "patterns": pa.table({c: pa.nulls(2) for c in ("pattern", "class", "examples", "rank")}),
        "behaviors": pa.table({c: pa.nulls(2) for c in ("behavior", "mi_bits", "sample_docs")}),
    }
    for name, table in nulls.items():
        (folder / name).mkdir(exist_ok=True)
        pq.write_table(table, folder / name / "part-00000.parquet")
    report(folder, tmp_path / "out")
    page, text = _check_page(tmp_path / "out")
    assert page.imgs == [] and text.count('class="note"') == 7  # 6 sections + top generations


def test_top_generations_marked_like_the_explorer(
    pipeline: dict[str, Path],  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """The report's span view is the explorer's: same markup for the same generation."""
    from starlette.testclient import TestClient

    from corpusmap.explorer import create_app

    report(pipeline["results"], tmp_path / "out")
    _, text = _check_page(tmp_path / "out")
    top = text.split('id="top"')[1]
    explorer = TestClient(create_app(pipeline["results"]))
    for gen_id in ("g-fox", "g-copy"):
        shown = explorer.get(f"/api/generation/{gen_id}").json()["output_html"]
        assert "<mark" in shown and shown in top
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)" in top
