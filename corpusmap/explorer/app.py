"""The explorer's web app: Starlette routes over :class:`Explorer`, Jinja2 pages.

Every page has a JSON twin under ``/api`` so scripts can use the server too::

    /                       overview            /api/overview
    /generations            the table           /api/generations
    /generation/{gen_id}    one generation      /api/generation/{gen_id}
                            a span's sources    /api/span?gen_id=&start=&length=
    /patterns               the four classes    /api/patterns
    /document/{res}/{id}    a corpus document   /api/document/{res}/{id}
    /ask                    ask the corpus      /api/count|locate|ntd?q=
    /sql                    SQL console         /api/sql?q=[&format=csv|parquet]

Templates autoescape everything (``autoescape=True``, whatever the file name);
the only markup passed through is the span renderer's, built from escaped text.
Errors a user can cause (unknown id, bad parameter, refused SQL) answer 404/400
with a one-line message, as a page or ``{"error": ...}``; anything else answers
500 with a generic message (the traceback goes to the server log, not the page).

What it leaves out: running the server (``serve`` in ``__init__``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from corpusmap import __version__
from corpusmap.errors import CorpusmapError
from corpusmap.explorer import ask, console, logprobs, overview
from corpusmap.explorer.generation import generation, span_sources
from corpusmap.explorer.state import BadRequest, Explorer, NotFound
from corpusmap.explorer.table import choices, page_of_generations, parse_filters

HERE = Path(__file__).parent
log = logging.getLogger("corpusmap.explorer")


def _int(params: Any, name: str, default: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        if default is None:
            raise BadRequest(f"missing parameter {name}")
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name}={raw!r} is not a whole number") from None


def create_app(
    results: Any, index: Any = None, *, sql_timeout: float = console.TIMEOUT
) -> Starlette:
    """The explorer app over results folder(s); ``index`` overrides their corpus index."""
    ex = Explorer(results, index)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True
    )
    templates = Jinja2Templates(env=env)

    served = threading.Event()  # the first page is out: warm-up may take the CPU now

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        folders = ex.names
        incomplete = [n for n in folders if not ex.complete(n)]
        base = {"names": folders, "incomplete": incomplete, "version": __version__}
        response = templates.TemplateResponse(request, name, base | context, status_code=status)
        served.set()
        return response

    def res(request: Request) -> str:
        name = request.query_params.get("results") or ""
        if name:
            ex.folder(name)
        return name

    def home(request: Request) -> Response:
        return page(request, "overview.html", data=overview.overview(ex))

    def api_overview(request: Request) -> Response:
        data = overview.overview(ex)
        data.pop("svg", None)
        return JSONResponse(data)

    def table(request: Request) -> Response:
        data = page_of_generations(ex, parse_filters(request.query_params))
        return page(request, "generations.html", data=data, choices=choices(ex))

    def api_table(request: Request) -> Response:
        data = page_of_generations(ex, parse_filters(request.query_params))
        data["filters"] = vars(data["filters"])
        return JSONResponse(console.plain(data))

    def one(request: Request) -> Response:
        g = generation(ex, request.path_params["gen_id"], res(request))
        return page(request, "generation.html", g=g)

    def api_one(request: Request) -> Response:
        return JSONResponse(generation(ex, request.path_params["gen_id"], res(request)))

    def api_span(request: Request) -> Response:
        p = request.query_params
        found = span_sources(
            ex,
            p.get("gen_id") or "",
            res(request),
            _int(p, "start"),
            _int(p, "length"),
            ask.limit_of(p.get("limit")),
        )
        return JSONResponse(found)

    def patterns(request: Request) -> Response:
        return page(request, "patterns.html", data=overview.patterns(ex))

    def api_patterns(request: Request) -> Response:
        return JSONResponse(console.plain(overview.patterns(ex)))

    def document(request: Request) -> Response:
        doc = overview.document(ex, request.path_params["results"], request.path_params["doc_id"])
        return page(request, "document.html", doc=doc)

    def api_document(request: Request) -> Response:
        p = request.path_params
        return JSONResponse(console.plain(overview.document(ex, p["results"], p["doc_id"])))

    def _ask(request: Request, what: str) -> dict[str, Any]:
        p = request.query_params
        name = res(request) or ex.names[0]
        return ask.ask(ex, name, p.get("q") or "", what, ask.limit_of(p.get("limit")))

    def ask_page(request: Request) -> Response:
        p = request.query_params
        what = p.get("what") or "count"
        answer = _ask(request, what) if p.get("q") else None
        return page(request, "ask.html", answer=answer, q=p.get("q") or "", what=what)

    def api_ask(what: str) -> Any:
        def endpoint(request: Request) -> Response:
            return JSONResponse(_ask(request, what))

        return endpoint

    def sql_page(request: Request) -> Response:
        q = request.query_params.get("q") or ""
        result = None
        if q:
            table, more = console.run_sql(ex, q, timeout=sql_timeout)
            result = console.jsonable(table) | {"more": more}
        return page(request, "sql.html", q=q, result=result, limit=console.ROW_LIMIT)

    def api_sql(request: Request) -> Response:
        p = request.query_params
        fmt = p.get("format") or "json"
        if fmt == "json":
            limit = min(_int(p, "limit", console.ROW_LIMIT), console.ROW_LIMIT)
            table, more = console.run_sql(ex, p.get("q") or "", limit, sql_timeout)
            return JSONResponse(console.jsonable(table) | {"more": more})
        table, more = console.run_sql(ex, p.get("q") or "", console.DOWNLOAD_LIMIT, sql_timeout)
        body, media = console.to_bytes(table, fmt)
        headers = {"Content-Disposition": f'attachment; filename="query.{fmt}"'}
        if more:
            headers["X-Corpusmap-Truncated"] = str(console.DOWNLOAD_LIMIT)
        return Response(body, media_type=media, headers=headers)

    def failure(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        return page(request, "error.html", status=status, status_code=status, message=message)

    def on_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, NotFound):
            return failure(request, 404, str(exc))
        if isinstance(exc, CorpusmapError):
            return failure(request, 400, str(exc))
        if isinstance(exc, HTTPException):
            msg = "no such page" if exc.status_code == 404 else str(exc.detail)
            return failure(request, exc.status_code, msg)
        log.exception("explorer: internal error on %s", request.url.path)
        return failure(request, 500, "internal error (details in the server log)")

    routes = [
        Route("/", home),
        Route("/api/overview", api_overview),
        Route("/generations", table),
        Route("/api/generations", api_table),
        Route("/generation/{gen_id:path}", one),
        Route("/api/generation/{gen_id:path}", api_one),
        Route("/api/span", api_span),
        Route("/patterns", patterns),
        Route("/api/patterns", api_patterns),
        Route("/document/{results}/{doc_id:int}", document),
        Route("/api/document/{results}/{doc_id:int}", api_document),
        Route("/ask", ask_page),
        *(Route(f"/api/{w}", api_ask(w)) for w in ("count", "locate", "ntd")),
        Route("/sql", sql_page),
        Route("/api/sql", api_sql),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    handlers: dict[Any, Any] = {
        CorpusmapError: on_error,
        HTTPException: on_error,
        Exception: on_error,
    }

    def warm() -> None:  # open the indexes (and import their kernels) before the first click
        served.wait(10)
        for name in ex.names:
            ex.index(name)
            ex.index(name, "generations")
            logprobs.warm(ex, name)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        threading.Thread(target=warm, daemon=True).start()
        yield

    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    app.state.explorer = ex
    return app
