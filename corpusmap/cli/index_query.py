"""``corpusmap index count|locate|ntd|match|document``: queries on an index, thin over ``Index``.

Each command opens the index (ours, an infini-gram folder with ``--tokenizer``, or
Ray-served with ``--ray``) and calls the method of the same name on one query or a
batch (TEXT arguments and ``--file`` lines, text or ``--tokens`` ids), printing a
table or ``--json``. What it leaves out: building and checking indexes (``index.py``)
and near-duplicates (``minhash.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import click
import numpy as np

from corpusmap.cli.options import foreign_options, ray_option
from corpusmap.errors import CorpusmapError, InputError
from corpusmap.index.index import Index
from corpusmap.index.opening import open_index


def emit(data: Any, as_json: bool, render: Any) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=None, default=str))
    else:
        render(data)


_MAX_ID = 2**63 - 1  # what an int64 batch holds; ids beyond the vocabulary become `unknown`


def _read_query_file(file: str) -> list[tuple[str, str]]:
    """(where, text) of each line of ``--file``, decoded as UTF-8 line by line."""
    items = []
    for n, raw in enumerate(Path(file).read_bytes().splitlines(), 1):
        try:
            items.append((f"{file}:{n}", raw.decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise InputError(
                file, f"not UTF-8 (byte {exc.start + 1}); save the file as UTF-8", line=n
            ) from None
    return items


def _token_ids(where: str, text: str) -> list[int]:
    ids = []
    for t in text.split():
        try:
            v = int(t)
        except ValueError:
            v = -1
        if not 0 <= v <= _MAX_ID:
            raise CorpusmapError(
                f"{where}: {t[:40]!r} is not a token id (--tokens wants whole numbers "
                f"0..{_MAX_ID} separated by spaces)"
            )
        ids.append(v)
    return ids


def queries_of(ix: Index, texts: tuple[str, ...], file: str | None, tokens: bool) -> list[Any]:
    items = [(f"TEXT {i}", t) for i, t in enumerate(texts, 1)]
    if file:
        items += _read_query_file(file)
    if not items:
        raise click.UsageError("give at least one TEXT or --file")
    if tokens:
        return [_token_ids(where, s) for where, s in items]
    return [s for _, s in items]


_query_opts = [
    click.argument("path", metavar="DIR", type=click.Path(file_okay=False)),
    click.argument("texts", metavar="TEXT", nargs=-1),
    click.option(
        "--file", type=click.Path(exists=True, dir_okay=False), help="One query per line."
    ),
    click.option("--tokens", is_flag=True, help="TEXT is whitespace-separated token ids."),
    click.option("--json", "as_json", is_flag=True, help="Print JSON."),
    ray_option,
]


def query_options(fn: Any) -> Any:
    for opt in reversed(_query_opts):
        fn = opt(fn)
    return foreign_options(fn)


@click.command("count")
@query_options
def count_cmd(
    path: str,
    texts: tuple[str, ...],
    file: str | None,
    tokens: bool,
    as_json: bool,
    tokenizer: str | None = None,
    cache_dir: str | None = None,
    ray: str | None = None,
) -> None:
    """Count occurrences of each TEXT (an n-gram) in the corpus."""
    ix = open_index(path, tokenizer, cache_dir=cache_dir, ray=ray)
    qs = queries_of(ix, texts, file, tokens)
    counts = cast(list[int], ix.count(qs))
    rows = [
        {"query": q if isinstance(q, str) else " ".join(map(str, q)), "count": c}
        for q, c in zip(qs, counts, strict=True)
    ]

    def render(rs: list[dict[str, Any]]) -> None:
        for x in rs:
            click.echo(f"{x['count']}\t{x['query']}")

    emit(rows, as_json, render)


@click.command("locate")
@query_options
@click.option("--limit", default=10, show_default=True, help="Occurrences per query.")
def locate_cmd(
    path: str,
    texts: tuple[str, ...],
    file: str | None,
    tokens: bool,
    as_json: bool,
    limit: int,
    tokenizer: str | None = None,
    cache_dir: str | None = None,
    ray: str | None = None,
) -> None:
    """Where each TEXT occurs: document id, offset (in tokens) and document metadata."""
    ix = open_index(path, tokenizer, cache_dir=cache_dir, ray=ray)
    qs = queries_of(ix, texts, file, tokens)
    hits = ix.locate(qs, limit=limit)

    def render(all_hits: list[list[dict[str, Any]]]) -> None:
        for q, hs in zip(qs, all_hits, strict=True):
            click.echo(f"{q!r}: {len(hs)} shown")
            for h in hs:
                click.echo(
                    f"  doc {h['doc_id']} @ {h['offset']}  {h['id'] or ''}  "
                    f"{h['source']}:{h['row']}"
                )

    emit(hits, as_json, render)


@click.command("ntd")
@query_options
@click.option("--limit", default=10, show_default=True, help="Most frequent next tokens shown.")
def ntd_cmd(
    path: str,
    texts: tuple[str, ...],
    file: str | None,
    tokens: bool,
    as_json: bool,
    limit: int,
    tokenizer: str | None = None,
    cache_dir: str | None = None,
    ray: str | None = None,
) -> None:
    """Next-token distribution after each TEXT (backing off to its longest suffix that occurs)."""
    ix = open_index(path, tokenizer, cache_dir=cache_dir, ray=ray)
    qs = queries_of(ix, texts, file, tokens)
    res = ix.ntd(qs, limit=limit)

    def render(all_res: list[dict[str, Any]]) -> None:
        for q, r in zip(qs, all_res, strict=True):
            click.echo(
                f"{q!r}: context used {r['length_used']} tokens, {r['total']:,} continuations"
            )
            for d in r["distribution"]:
                click.echo(f"  {d['prob']:.4f}  {d['count']:>8}  {d['text']!r}")

    emit(res, as_json, render)


@click.command("match")
@query_options
def match_cmd(
    path: str,
    texts: tuple[str, ...],
    file: str | None,
    tokens: bool,
    as_json: bool,
    tokenizer: str | None = None,
    cache_dir: str | None = None,
    ray: str | None = None,
) -> None:
    """Matching statistics of each TEXT: per position, the longest corpus match starting there."""
    ix = open_index(path, tokenizer, cache_dir=cache_dir, ray=ray)
    qs = queries_of(ix, texts, file, tokens)
    stats = cast(list[np.ndarray], ix.matching_statistics(qs))
    longest = cast(list[dict[str, int]], ix.longest_match(qs))
    rows: list[dict[str, Any]] = []
    for q, ms, lm in zip(qs, stats, longest, strict=True):
        ids = ix.encode(q) if isinstance(q, str) else np.asarray(q, dtype=np.int64)
        span = ix.tokenizer.decode(ids[lm["start"] : lm["start"] + lm["length"]])
        rows.append(
            {"query": q, "matching_statistics": ms.tolist(), "longest_match": lm, "span": span}
        )

    def render(rs: list[dict[str, Any]]) -> None:
        for r in rs:
            lm = r["longest_match"]
            click.echo(
                f"{r['query']!r}: longest match {lm['length']} tokens "
                f"at {lm['start']}: {r['span']!r}"
            )
            click.echo("  " + " ".join(map(str, r["matching_statistics"])))

    emit(rows, as_json, render)


@click.command("document")
@click.argument("path", metavar="DIR", type=click.Path(file_okay=False))
@click.argument("doc_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON with metadata.")
@ray_option
@foreign_options
def document_cmd(
    path: str,
    doc_id: int,
    as_json: bool,
    tokenizer: str | None,
    cache_dir: str | None,
    ray: str | None = None,
) -> None:
    """Print a document's text by its doc_id."""
    ix = open_index(path, tokenizer, cache_dir=cache_dir, ray=ray)
    rec = ix.document_info(doc_id)
    rec["text"] = ix.document(doc_id)
    emit(rec, as_json, lambda r: click.echo(r["text"]))
