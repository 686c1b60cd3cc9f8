"""The explorer in a real headless Chromium (Debian's ``chromium``), driven by Playwright.

A uvicorn server runs in a background thread on 127.0.0.1 and a free port.
The tests open each page, click a span and read its source document, filter
the table, run a SQL query, and check that hostile generations render as text:
no JavaScript dialog ever opens (an ``alert`` from injected markup would).
They skip, saying why, only when the chromium binary or Playwright is absent
(``.ci/run`` installs chromium).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.explorer.conftest import naive_occurrences, words

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(),
    reason="chromium is not installed (apt-get install chromium; .ci/run does it)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(pipeline: dict[str, Path]) -> Iterator[str]:
    import uvicorn

    from corpusmap.explorer import create_app

    port = _free_port()
    config = uvicorn.Config(
        create_app(pipeline["results"]), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started:
        assert time.time() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that records every dialog and page error."""
    pg = browser.new_page()
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    assert pg.dialogs == [], f"a dialog opened: {pg.dialogs}"
    assert pg.errors == [], f"JavaScript errors: {pg.errors}"
    pg.close()


def test_each_page_opens(server: str, page: Any) -> None:
    for path, heading in [
        ("/", "Overview"),
        ("/generations", "Generations"),
        ("/generation/g-fox", "Generation"),
        ("/patterns", "Pattern classes"),
        ("/ask", "Ask the corpus"),
        ("/sql", "SQL console"),
        ("/document/results/0", "Corpus document 0"),
    ]:
        resp = page.goto(server + path)
        assert resp.status == 200, path
        assert page.locator("h1").first.inner_text().startswith(heading), path


def test_click_span_shows_source_document(server: str, page: Any) -> None:
    page.goto(server + "/generation/g-fox")
    mark = page.locator("mark.span").first
    start, length = int(mark.get_attribute("data-start")), int(mark.get_attribute("data-length"))
    mark.click()
    hits = page.locator("#sources-list .hit")
    hits.first.wait_for()
    output = page.locator("#output").inner_text()
    toks = words(output)[start : start + length]
    want = naive_occurrences(toks)
    assert hits.count() == len(want)
    for k, (doc, _) in enumerate(want):
        hit = hits.nth(k)
        assert hit.locator("a.doc-link").inner_text() == f"d{doc}"
        assert words(hit.locator("mark.hit-match").inner_text()) == toks
    assert page.locator("mark.span.chosen").count() >= 1
    page.locator("a.doc-link").first.click()
    page.wait_for_url("**/document/results/*")
    assert "quick brown fox" in page.locator("#document").inner_text()


def test_colour_toggle(server: str, page: Any) -> None:
    page.goto(server + "/generation/g-fox")
    page.locator('input[value="count"]').check()
    assert "by-count" in page.locator("#output").get_attribute("class")


def test_filter_table(server: str, page: Any) -> None:
    page.goto(server + "/generations")
    page.fill('input[name="q"]', "quick brown")
    page.click('#filters button[type="submit"]')
    page.wait_for_url("**q=quick+brown**")
    ids = page.locator("#generations a.gen").all_inner_texts()
    assert ids == ["g-fox"]
    page.locator("#generations a.gen").first.click()
    page.wait_for_url("**/generation/g-fox**")


def test_sort_table(server: str, page: Any) -> None:
    page.goto(server + "/generations")
    page.click("text=longest match")
    first = [
        int(x) for x in page.locator("#generations tbody tr td:nth-child(6)").all_inner_texts()
    ]
    assert first == sorted(first, reverse=True)


def test_run_sql(server: str, page: Any) -> None:
    page.goto(server + "/sql")
    page.fill(
        'textarea[name="q"]', "SELECT gen_id FROM generations WHERE gen_id LIKE 'g-0%' ORDER BY 1"
    )
    page.click('#sql button[type="submit"]')
    page.locator("#sql-result").wait_for()
    cells = page.locator("#sql-result tbody td").all_inner_texts()
    assert cells == [f"g-{k:03d}" for k in range(20)]
    page.fill('textarea[name="q"]', "DROP VIEW generations")
    page.click('#sql button[type="submit"]')
    assert "refused DROP" in page.locator("#error-message").inner_text()


def test_hostile_generations_render_as_text(server: str, page: Any) -> None:
    """Markup in outputs, prompts, queries and ids shows as text; no alert fires."""
    page.goto(server + "/generation/g-script")
    assert "<script>alert(1)</script>" in page.locator("#output").inner_text()
    assert "<script>alert(1)</script>" in page.locator("#prompt").inner_text()
    page.goto(server + "/generation/g-img")
    assert '"><img src=x onerror=alert(1)>' in page.locator("#output").inner_text()
    assert page.locator("#output img").count() == 0
    page.locator("#output mark.span").first.click()
    page.locator("#sources-list .hit").first.wait_for()
    page.goto(server + "/generations?q=alert")
    assert page.locator("#generations img").count() == 0
    page.goto(server + "/ask?what=locate&q=" + "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    page.goto(server + "/document/results/4")
    assert "< b > Markup < / b >" in page.locator("#document").inner_text()  # words re-spaced
    assert page.locator("#document b").count() == 0
    page.goto(server + "/generation/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert "no generation" in page.locator("#error-message").inner_text()
    page.wait_for_timeout(300)  # give any injected handler time to fire


def test_ask_page(server: str, page: Any) -> None:
    page.goto(server + "/ask")
    page.fill('textarea[name="q"]', "The quick brown fox")
    page.click('#ask button[type="submit"]')
    assert page.locator("#side-corpus .count").inner_text() == "2"
    assert page.locator("#side-generations .count").inner_text() == "1"
