"""Every explorer endpoint through Starlette's TestClient, on a real classified folder.

References are independent of the explorer: span counts and source documents
against a naive scan of the corpus texts (``naive_occurrences``), the table's
order and paging against pyarrow reading the Parquet parts, SQL refusals
against the bytes of every file in the results folder before and after.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from corpusmap.explorer import create_app
from tests.explorer.conftest import CORPUS, IMG, SCRIPT, naive_occurrences, words


@pytest.fixture(scope="module")
def client(pipeline: dict[str, Path]) -> TestClient:
    return TestClient(create_app(pipeline["results"], sql_timeout=2.0))


class Marks(HTMLParser):
    """The ``<mark class="span ...">`` fragments of a page: attributes and inner text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.open: list[dict[str, str | None] | None] = []
        self.marks: list[dict[str, str | None]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        is_span = tag == "mark" and "span" in (a.get("class") or "").split()
        if is_span:
            a["text"] = ""
            self.marks.append(a)
        self.open.append(a if is_span else None)

    def handle_endtag(self, tag: str) -> None:
        self.open.pop()

    def handle_data(self, data: str) -> None:
        for a in self.open:
            if a is not None:
                a["text"] = (a["text"] or "") + data


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text


def test_pages_render(client: TestClient) -> None:
    for url in ("/", "/generations", "/generation/g-fox", "/patterns", "/ask", "/sql",
                "/document/results/0", "/ask?q=The+quick+brown&what=locate",
                "/ask?q=the+lazy&what=ntd", "/sql?q=SELECT+*+FROM+copy_rate(4)"):  # fmt: skip
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        assert r.headers["content-type"].startswith("text/html")
        assert "corpusmap explorer" in r.text
    assert client.get("/static/explorer.js").status_code == 200


def test_spans_are_marks_matching_the_corpus(client: TestClient) -> None:
    """Each span's fragments spell its text; count and sources equal a naive scan."""
    data = client.get("/api/generation/g-fox").json()
    output = data["row"]["output"]
    marks = Marks(client.get("/generation/g-fox").text).marks
    assert data["spans"], "g-fox copies corpus text"
    for s in data["spans"]:
        frags = [m for m in marks if m["data-start"] == str(s["start"])]
        assert frags and all(m["data-length"] == str(s["length"]) for m in frags)
        assert {m["data-count"] for m in frags} == {str(s["corpus_count"])}
        assert "".join(m["text"] or "" for m in frags) == output[s["begin"] : s["end"]]
        toks = words(output[s["begin"] : s["end"]])
        assert len(toks) == s["length"]
        assert s["corpus_count"] == len(naive_occurrences(toks))
        found = client.get(f"/api/span?gen_id=g-fox&start={s['start']}&length={s['length']}").json()
        assert found["count"] == s["corpus_count"]
        want = naive_occurrences(toks)
        assert [(h["doc_id"], h["offset"]) for h in found["hits"]] == want
        for h in found["hits"]:
            assert words(h["match"]) == toks and h["id"] == f"d{h['doc_id']}"


def test_prompt_copy_marked_apart(client: TestClient) -> None:
    marks = Marks(client.get("/generation/g-echo").text).marks
    assert marks and all(m["data-in-prompt"] == "true" for m in marks)
    assert all("prompt" in (m["class"] or "").split() for m in marks)
    corpus = Marks(client.get("/generation/g-fox").text).marks
    assert all(m["data-in-prompt"] == "false" and "corpus" in (m["class"] or "") for m in corpus)


def test_true_continuation_beside_output(client: TestClient) -> None:
    text = client.get("/generation/g-copy").text
    assert 'id="continuation"' in text and "darkness</div>" in text


def test_table_order_paging_and_filters(client: TestClient, pipeline: dict[str, Path]) -> None:
    rows = pq.read_table(pipeline["results"] / "generations").to_pylist()
    want = [r["gen_id"] for r in sorted(rows, key=lambda r: (-r["longest_match"], r["gen_id"]))]
    got: list[str] = []
    page = 1
    while True:
        data = client.get(f"/api/generations?sort=longest_match&per_page=7&page={page}").json()
        assert data["total"] == len(rows) and data["pages"] == -(-len(rows) // 7)
        got += [r["gen_id"] for r in data["rows"]]
        if page == data["pages"]:
            break
        page += 1
    assert got == want
    fox = client.get("/api/generations?q=QUICK+brown").json()
    assert {r["gen_id"] for r in fox["rows"]} == {
        r["gen_id"] for r in rows if "quick brown" in (r["prompt"] + r["output"]).lower()
    }
    long = client.get("/api/generations?min_match=8").json()
    assert {r["gen_id"] for r in long["rows"]} == {
        r["gen_id"] for r in rows if r["longest_match"] >= 8
    }
    corpus = client.get("/api/generations?kind=corpus").json()
    assert [r["gen_id"] for r in corpus["rows"]] == ["g-copy"]
    html = client.get("/generations?q=fox").text
    assert "g-fox" in html and "g-novel" not in html


def test_hostile_text_is_escaped(client: TestClient) -> None:
    pages = [
        "/generation/g-script", "/generation/g-img", "/generations?q=alert",
        "/ask?q=%3Cscript%3Ealert(1)%3C/script%3E&what=locate",
        "/sql?q=SELECT+'%3Cscript%3Ealert(1)%3C/script%3E'+AS+x", "/document/results/4",
        "/generation/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ]  # fmt: skip
    for url in pages:
        text = client.get(url).text
        assert SCRIPT not in text and "<img src=x" not in text, url
        assert "<b>Markup</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/generation/g-script").text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in client.get("/generation/g-img").text
    scripts = re.findall(r"<script[^>]*>", client.get("/generation/g-script").text)
    assert scripts == ['<script src="/static/explorer.js" defer>']
    assert IMG in client.get("/api/generation/g-img").json()["row"]["output"]  # JSON keeps text


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(
    "query",
    [
        "DROP VIEW generations",
        "CREATE TABLE x AS SELECT 1",
        "INSERT INTO generations SELECT * FROM generations",
        "COPY (SELECT 1) TO '{out}/generations/part-00000.parquet' (FORMAT parquet)",
        "ATTACH '{out}/x.db' AS x",
        "SET threads = 1",
        "INSTALL httpfs",
        "SELECT 1; COPY (SELECT 1) TO '{out}/x.csv'",
        "UPDATE generations SET output = ''",
    ],
)
def test_sql_refuses_writes(client: TestClient, pipeline: dict[str, Path], query: str) -> None:
    out = pipeline["results"]
    before = _snapshot(out)
    for url in ("/api/sql", "/sql"):
        r = client.get(url, params={"q": query.format(out=out)})
        assert r.status_code == 400, (query, r.text[:200])
        _no_traceback(r.text)
    assert _snapshot(out) == before


def test_sql_results_limits_and_downloads(client: TestClient) -> None:
    data = client.get("/api/sql", params={"q": "SELECT * FROM copy_rate(4)"}).json()
    assert data["columns"] == ["results", "model", "n", "copy_rate"] and data["more"] is False
    many = client.get("/api/sql", params={"q": "SELECT * FROM range(5000)"}).json()
    assert len(many["rows"]) == 1000 and many["more"] is True
    q = "SELECT gen_id, longest_match FROM generations ORDER BY gen_id"
    csv = client.get("/api/sql", params={"q": q, "format": "csv"})
    assert csv.status_code == 200 and csv.text.splitlines()[0] == '"gen_id","longest_match"'
    table = pq.read_table(
        io.BytesIO(client.get("/api/sql", params={"q": q, "format": "parquet"}).content)
    )
    assert table.column("gen_id").to_pylist() == sorted(table.column("gen_id").to_pylist())
    assert len(csv.text.splitlines()) == table.num_rows + 1
    slow = "SELECT count(*) FROM range(100000000000) a"
    r = client.get("/api/sql", params={"q": slow})
    assert r.status_code == 400 and "time limit" in r.json()["error"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/generation/nope", 404),
        ("/api/generation/nope", 404),
        ("/generation/g-fox?results=other", 404),
        ("/api/span?gen_id=g-fox&start=abc&length=2", 400),
        ("/api/span?gen_id=g-fox&start=0&length=999", 400),
        ("/api/span?gen_id=g-fox", 400),
        ("/generations?min_match=x", 400),
        ("/generations?sort=output;drop", 400),
        ("/api/generations?per_page=0", 400),
        ("/api/count?q=", 400),
        ("/api/ntd?q=the&limit=1000", 400),
        ("/api/locate?q=" + "x" * 5000, 400),
        ("/document/results/99999", 404),
        ("/no/such/page", 404),
        ("/api/sql?q=SELEC+1", 400),
        ("/api/sql?q=SELECT+1&format=xlsx", 400),
    ],
)
def test_bad_input_gives_a_message(client: TestClient, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status, r.text[:300]
    _no_traceback(r.text)
    if url.startswith("/api/"):
        assert r.json()["error"]
    else:
        assert 'id="error-message"' in r.text


def test_ask_both_sides(client: TestClient) -> None:
    q = "The quick brown fox"
    data = client.get("/api/count", params={"q": q}).json()
    assert data["corpus"]["count"] == len(naive_occurrences(words(q)))
    outputs = [o for o in client.get("/api/sql", params={"q": "SELECT output FROM generations"})
               .json()["rows"]]  # fmt: skip
    in_gens = sum(
        1 for (o,) in outputs for i in range(len(words(o))) if words(o)[i : i + 4] == words(q)
    )
    assert data["generations"]["count"] == in_gens
    ntd = client.get("/api/ntd", params={"q": "the lazy"}).json()["corpus"]
    follow = Counter(
        t[i + 2]
        for t in map(words, CORPUS)
        for i in range(len(t) - 2)
        if t[i : i + 2] == ["the", "lazy"]
    )
    assert {d["text"]: d["count"] for d in ntd["distribution"]} == dict(follow)
    loc = client.get("/api/locate", params={"q": "brown fox jumps"}).json()
    assert [(h["doc_id"], h["offset"]) for h in loc["corpus"]["hits"]] == naive_occurrences(
        ["brown", "fox", "jumps"]
    )
    assert any(h["gen_id"] == "g-fox" for h in loc["generations"]["hits"])


def test_overview_and_patterns(client: TestClient) -> None:
    data = client.get("/api/overview").json()
    assert data["folders"][0]["complete"] is True
    assert data["summary"][0]["n"] == 26
    text = client.get("/").text
    assert "<svg" in text and "Copying and memorization" in text
    pats = client.get("/api/patterns").json()
    assert set(pats["by_class"]) == {"shared", "idiosyncratic", "contingent", "unexpressed"}


def test_api_generation_json(client: TestClient) -> None:
    data = client.get("/api/generation/g-copy").json()
    assert data["row"]["continuation"].startswith("and the earth")
    assert data["complete"] is True and isinstance(data["output_html"], str)


def test_folder_being_written(pipeline: dict[str, Path], tmp_path: Path) -> None:
    """Mid-classify: a banner, finished parts only (a temp part is ignored), then the rest."""
    import json
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    folder = tmp_path / "running"
    shutil.copytree(pipeline["results"], folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("completed_at")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    last = folder / "generations" / "part-00002.parquet"
    held = last.read_bytes()
    last.unlink()
    (folder / "generations" / ".part-00002.parquet.tmp").write_bytes(held[: len(held) // 2])
    client = TestClient(create_app(folder))
    page = client.get("/generations")
    assert page.status_code == 200 and "Incomplete results" in page.text
    assert client.get("/api/generations").json()["total"] == 20
    with ThreadPoolExecutor(8) as pool:  # concurrent readers
        codes = list(pool.map(lambda u: client.get(u).status_code, ["/", "/generations"] * 8))
    assert codes == [200] * 16
    last.write_bytes(held)
    manifest["completed_at"] = "now"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert client.get("/api/generations").json()["total"] == 26
    assert "Incomplete results" not in client.get("/generations").text


def test_sql_endpoint_refuses_the_hostile_corpus(
    client: TestClient, pipeline: dict[str, Path], tmp_path: Path
) -> None:
    """Every statement `corpusmap sql` refuses is refused by /api/sql too; no file changes."""
    from tests.query.test_sql_sandbox import HOSTILE, TMP_TARGET

    out = pipeline["results"]
    part = sorted((out / "generations").glob("part-*.parquet"))[0]
    index = pipeline.get("index", out)
    fill = {"R": out, "I": index, "O": tmp_path, "P": part}
    before = _snapshot(out), _snapshot(tmp_path)
    for template in HOSTILE:
        query = template
        for key, value in fill.items():
            query = query.replace("{" + key + "}", str(value))
        r = client.get("/api/sql", params={"q": query})
        assert r.status_code == 400, (query, r.text[:200])
        _no_traceback(r.text)
    assert (_snapshot(out), _snapshot(tmp_path)) == before
    assert not list(Path("/tmp").glob(Path(TMP_TARGET).name + "*"))
