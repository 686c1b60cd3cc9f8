"""``corpusmap index ...``: build, inspect, verify and query corpus indexes.

Each query command mirrors an ``Index`` method: ``count``, ``locate``, ``ntd``,
``match`` (``matching_statistics`` + ``longest_match``) and ``document``. Several
TEXT arguments (or ``--file``, one query per line) are answered in one batched
call. ``--tokens`` reads each TEXT as whitespace-separated token ids instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import click
import numpy as np

from corpusmap.cli.minhash import dups_cmd, minhash_cmd, near_dups_cmd
from corpusmap.cli.options import foreign_options, ray_option
from corpusmap.errors import CorpusmapError, InputError
from corpusmap.index.build import DEFAULT_SHARD_TOKENS, build_index
from corpusmap.index.index import Index
from corpusmap.index.opening import open_index
from corpusmap.index.verify import verify_index


@click.group()
def index() -> None:
    """Build, inspect, verify and query corpus indexes."""


def _emit(data: Any, as_json: bool, render: Any) -> None:
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


def _queries(ix: Index, texts: tuple[str, ...], file: str | None, tokens: bool) -> list[Any]:
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


@index.command("build")
@click.argument("sources", metavar="SOURCE...", nargs=-1, required=True)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Index folder to create."
)
@click.option(
    "--tokenizer",
    default="bytes",
    show_default=True,
    help="bytes | words | ids:N | smollm2 | tokenizer.json | model folder | file.gguf",
)
@click.option("--text-field", default="text", show_default=True, help="Record field with the text.")
@click.option("--id-field", default=None, help="Record field with a document id.")
@click.option("--lines", is_flag=True, help="Text files: one document per line.")
@click.option(
    "--shard-tokens",
    default=None,
    type=int,
    help="Tokens per shard, one separator per document included; a shard closes at the "
    f"first document that reaches it. Default: one shard per core for corpora of 4M tokens "
    f"or more, each at most {DEFAULT_SHARD_TOKENS:,} (`index info` shows the rule used).",
)
@click.option("--workers", default=None, type=int, help="Processes (default: all cores).")
@click.option(
    "--on-error", type=click.Choice(["raise", "skip"]), default="raise", show_default=True
)
@click.option(
    "--token-dtype",
    type=click.Choice(["u16", "u32"]),
    default=None,
    help="Pre-tokenized raw .bin inputs: token width.",
)
@click.option("--eod-id", type=int, default=None, help="Pre-tokenized inputs: end-of-document id.")
@click.option("--no-minhash", is_flag=True, help="Skip the MinHash near-duplicate index.")
@click.option("--force", is_flag=True, help="Replace an existing index built differently.")
@ray_option
def build_cmd(sources: tuple[str, ...], out: str, no_minhash: bool, **kw: Any) -> None:
    """Build an index over SOURCE files/folders (or `embedded`) into --out."""
    path = build_index(list(sources), out, minhash=not no_minhash, **kw)
    ix = open_index(path)
    click.echo(
        f"{path}: {ix.n_docs:,} documents, {ix.n_tokens:,} tokens, "
        f"{len(ix.shards)} shard(s), tokenizer {ix.spec.name}"
    )


@index.command("info")
@click.argument("path", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@foreign_options
def info_cmd(path: str, as_json: bool, tokenizer: str | None, cache_dir: str | None) -> None:
    """Show what an index holds and how it was built (or, for infini-gram, what it tells)."""
    info = open_index(path, tokenizer, cache_dir=cache_dir).info()

    def render(d: dict[str, Any]) -> None:
        tok = d["tokenizer"]
        if d.get("format") == "infini-gram":
            click.echo(f"index      {d['path']} (an infini-gram folder, opened read-only)")
        else:
            click.echo(
                f"index      {d['path']} (format v{d['format_version']}, built {d['created_at']})"
            )
        click.echo(
            f"documents  {d['n_docs']:,}   tokens {d['n_tokens']:,}   shards {d['n_shards']}"
        )
        click.echo(
            f"tokenizer  {tok['name']} ({tok['kind']}, "
            f"{tok['vocab_size']:,} ids, {d['token_width']})"
        )
        click.echo(f"on disk    {d['bytes_on_disk'] / 1e6:,.1f} MB")
        rs = d.get("read_stats") or {}
        click.echo(
            f"skipped    {rs.get('empty_skipped', 0)} empty, "
            f"{rs.get('errors_skipped', 0)} bad records"
        )
        click.echo(f"minhash    {'yes' if d.get('minhash') else 'no'}")
        if d.get("sharding"):
            sh = d["sharding"]
            click.echo(f"sharding   {sh['shard_tokens']:,} tokens per shard ({sh['rule']})")
        if d.get("cache_dir"):
            click.echo(f"cache      {d['cache_dir']}")
        if "block_checksums" in d:  # our indexes (a foreign folder has no checksums)
            click.echo(
                "checksums  "
                + (
                    "per block of tokens.bin and sa.bin (xxh3), verified on first read"
                    if d["block_checksums"]
                    else "block checksums absent (built before format v2): big files are "
                    "verified whole by sha256 on first read; rebuild for block checks"
                )
            )

    _emit(info, as_json, render)


@index.command("verify")
@click.argument("path", metavar="DIR", type=click.Path(file_okay=False))
@click.option(
    "--sample", default=100_000, show_default=True, help="Suffix-array pairs to check per shard."
)
@foreign_options
def verify_cmd(path: str, sample: int, tokenizer: str | None, cache_dir: str | None) -> None:
    """Recompute every checksum and check the suffix arrays' order; exit 1 on problems.

    An infini-gram folder has no checksums: its sizes, document offsets and a sample
    of its suffix-array order are checked.
    """
    from corpusmap.index.foreign.infinigram import is_infinigram
    from corpusmap.index.foreign.verify import verify_infinigram

    if is_infinigram(path):
        res = verify_infinigram(open_index(path, tokenizer, cache_dir=cache_dir), sample=sample)
    else:
        res = verify_index(path, sample=sample)
    for p in res["problems"]:
        click.echo(f"problem: {p}", err=True)
    click.echo(
        f"{path}: {'OK' if res['ok'] else 'FAILED'} ({res['checked']['files']} files, "
        f"{res['checked']['sa_pairs']:,} suffix-array pairs checked)"
    )
    if not res["ok"]:
        raise SystemExit(1)


@index.command("count")
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
    qs = _queries(ix, texts, file, tokens)
    counts = cast(list[int], ix.count(qs))
    rows = [
        {"query": q if isinstance(q, str) else " ".join(map(str, q)), "count": c}
        for q, c in zip(qs, counts, strict=True)
    ]

    def render(rs: list[dict[str, Any]]) -> None:
        for x in rs:
            click.echo(f"{x['count']}\t{x['query']}")

    _emit(rows, as_json, render)


@index.command("locate")
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
    qs = _queries(ix, texts, file, tokens)
    hits = ix.locate(qs, limit=limit)

    def render(all_hits: list[list[dict[str, Any]]]) -> None:
        for q, hs in zip(qs, all_hits, strict=True):
            click.echo(f"{q!r}: {len(hs)} shown")
            for h in hs:
                click.echo(
                    f"  doc {h['doc_id']} @ {h['offset']}  {h['id'] or ''}  "
                    f"{h['source']}:{h['row']}"
                )

    _emit(hits, as_json, render)


@index.command("ntd")
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
    qs = _queries(ix, texts, file, tokens)
    res = ix.ntd(qs, limit=limit)

    def render(all_res: list[dict[str, Any]]) -> None:
        for q, r in zip(qs, all_res, strict=True):
            click.echo(
                f"{q!r}: context used {r['length_used']} tokens, {r['total']:,} continuations"
            )
            for d in r["distribution"]:
                click.echo(f"  {d['prob']:.4f}  {d['count']:>8}  {d['text']!r}")

    _emit(res, as_json, render)


@index.command("match")
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
    qs = _queries(ix, texts, file, tokens)
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

    _emit(rows, as_json, render)


@index.command("document")
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
    _emit(rec, as_json, lambda r: click.echo(r["text"]))


index.add_command(near_dups_cmd, "near-dups")
index.add_command(dups_cmd, "dups")
index.add_command(minhash_cmd, "minhash")
