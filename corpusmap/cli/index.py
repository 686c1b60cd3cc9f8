"""``corpusmap index ...``: build, inspect and verify corpus indexes; the query group.

``build``, ``info`` and ``verify`` live here. The query commands (``count``,
``locate``, ``ntd``, ``match``, ``document``: one ``Index`` method each, batched) are
in ``index_query.py``, the MinHash ones (``near-dups``, ``dups``, ``minhash``) in
``minhash.py``; all are registered on the ``index`` group below.
"""

from __future__ import annotations

from typing import Any

import click

from corpusmap.cli.index_query import (
    count_cmd,
    document_cmd,
    emit,
    locate_cmd,
    match_cmd,
    ntd_cmd,
)
from corpusmap.cli.minhash import dups_cmd, minhash_cmd, near_dups_cmd
from corpusmap.cli.options import foreign_options, ray_option
from corpusmap.index.build import DEFAULT_SHARD_TOKENS, build_index
from corpusmap.index.opening import open_index
from corpusmap.index.verify import verify_index


@click.group()
def index() -> None:
    """Build, inspect, verify and query corpus indexes."""


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
    "first document that reaches it. Default: 2 x cores + 1 shards (on Ray: one per CPU) for "
    f"corpora of 4M tokens or more, each at most {DEFAULT_SHARD_TOKENS:,} "
    "(`index info` shows the rule used).",
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

    emit(info, as_json, render)


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


for _cmd in (count_cmd, locate_cmd, ntd_cmd, match_cmd, document_cmd):
    index.add_command(_cmd)
index.add_command(near_dups_cmd, "near-dups")
index.add_command(dups_cmd, "dups")
index.add_command(minhash_cmd, "minhash")
