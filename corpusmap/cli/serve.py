"""``corpusmap serve``: the explorer web app over results folders (mirrors ``corpusmap.serve``)."""

from __future__ import annotations

import click


@click.command("serve")
@click.argument("results", nargs=-1, required=True, type=click.Path(file_okay=False, exists=True))
@click.option(
    "--index",
    default=None,
    type=click.Path(file_okay=False, exists=True),
    help="Corpus index (default: the one each results manifest names).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=int, help="TCP port.")
def serve_cmd(results: tuple[str, ...], index: str | None, host: str, port: int) -> None:
    """Explore results in a browser: generations with their corpus spans, patterns, SQL.

    Several RESULTS folders are shown side by side (e.g. one per model). Open
    http://HOST:PORT after it starts; Ctrl-C stops it.
    """
    from corpusmap.explorer import serve

    click.echo(f"corpusmap explorer on http://{host}:{port}  (Ctrl-C to stop)", err=True)
    serve(list(results), index, host=host, port=port)
