"""Commands for the stages after the index: prompts, classify, sql, report, demo.

Each mirrors its API function: ``prompts`` → ``make_prompts``, ``classify`` →
``classify``, ``sql`` → ``sql``, ``report`` → ``report``, ``demo`` → ``demo``.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from corpusmap.cli.options import foreign_options, minhash_dir_option, ray_option
from corpusmap.cli.pattern_flags import collect_pattern_options, pattern_options
from corpusmap.errors import CorpusmapError


@click.command("prompts")
@click.argument("index", metavar="DIR", type=click.Path(file_okay=False))
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="Prompts Parquet file to write."
)
@click.option("--n", default=1000, show_default=True, help="Number of prompts.")
@click.option(
    "--prefix-tokens", default=32, show_default=True, help="Prompt length (index tokens)."
)
@click.option(
    "--continuation-tokens", default=32, show_default=True, help="True continuation length."
)
@click.option("--seed", default=0, show_default=True)
@click.option("--min-doc-tokens", default=None, type=int, help="Only documents at least this long.")
@click.option("--from-duplicated", is_flag=True, help="Only spans occurring >= --min-count times.")
@click.option("--min-count", default=2, show_default=True, help="With --from-duplicated.")
@click.option(
    "--sources",
    default=None,
    help="Only documents of these sources, comma-separated (e.g. embedded:kjv).",
)
@click.option(
    "--noise",
    default=None,
    help="Perturb prompts: comma-separated kinds of char-swap, char-drop, case, whitespace "
    "(several make a robustness sweep).",
)
@click.option(
    "--noise-rate",
    default="0.05",
    show_default=True,
    help="Share of characters perturbed; comma-separated for a sweep (0 keeps the clean prompt).",
)
@foreign_options
def prompts_cmd(
    index: str, out: str, tokenizer: str | None, cache_dir: str | None, **kw: Any
) -> None:
    """Sample prompts with their true continuations from a corpus index."""
    from corpusmap.index.opening import open_index
    from corpusmap.prompts import make_prompts

    kw["sources"] = kw["sources"].split(",") if kw["sources"] else None
    table = make_prompts(open_index(index, tokenizer, cache_dir=cache_dir), out=out, **kw)
    noisy = sum(v is not None for v in table.column("noise").to_pylist())
    sweep = f" ({noisy} of them perturbed)" if noisy else ""
    click.echo(f"{out}: {table.num_rows} prompts{sweep}")


@click.command("classify")
@click.argument("generations", metavar="G", type=click.Path(exists=True))
@click.option(
    "--index", required=True, type=click.Path(file_okay=False), help="Corpus index folder."
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Results folder.")
@click.option("--prompt-field", default="prompt", show_default=True)
@click.option("--output-field", default="output", show_default=True)
@click.option("--id-field", default=None, help="Unique id column (default: gen_id or row number).")
@click.option(
    "--min-span", default=None, type=int, help="Shortest span kept [50 bytes / 10 tokens]."
)
@click.option("--coverage-lengths", default=None, help="Comma-separated L of coverage@L.")
@click.option(
    "--max-n", default=None, type=int, help="novelty@n for n=1..N [16 bytes / 10 tokens]."
)
@click.option("--top-docs", default=3, show_default=True, help="Source documents kept per span.")
@click.option(
    "--extraction-k", default=None, type=int, help="k of k-extractable [whole continuation]."
)
@click.option("--no-minhash", is_flag=True, help="Skip the nearest-document MinHash lookup.")
@minhash_dir_option
@click.option("--no-patterns", is_flag=True, help="Skip the four pattern classes.")
@click.option(
    "--shard-rows", default=2000, show_default=True, help="Generations per resumable shard."
)
@click.option("--force", is_flag=True, help="Replace results made from other inputs.")
@ray_option
@click.option(
    "--on-error",
    type=click.Choice(["raise", "skip"]),
    default="raise",
    show_default=True,
    help="A generation with no output or prompt (null/missing): refuse, or skip and count it.",
)
@pattern_options
@foreign_options
def classify_cmd(
    generations: str, coverage_lengths: str | None, no_minhash: bool, no_patterns: bool, **kw: Any
) -> None:
    """Join generations G against a corpus index and write results (spans, measures, classes)."""
    from corpusmap.index.opening import open_index
    from corpusmap.match import classify

    if coverage_lengths:
        kw["coverage_lengths"] = [int(x) for x in coverage_lengths.split(",")]
    thresholds = collect_pattern_options(kw)
    ix = open_index(
        kw.pop("index"),
        kw.pop("tokenizer"),
        cache_dir=kw.pop("cache_dir"),
        minhash=kw.pop("minhash"),
    )
    out = classify(
        generations,
        ix,
        kw.pop("out"),
        minhash=not no_minhash,
        patterns=not no_patterns,
        pattern_options=thresholds,
        **kw,
    )
    from corpusmap.query.status import read_manifest

    skipped = read_manifest(out).get("skipped") or {}
    if sum(skipped.values()):
        click.echo(
            f"skipped {skipped.get('null_output', 0)} generation(s) with no output and "
            f"{skipped.get('null_prompt', 0)} with no prompt (--on-error skip)"
        )
    click.echo(f'results in {out}; query them with `corpusmap sql {out} "SELECT ..."`')


@click.command("sql")
@click.argument("args", metavar="RESULTS... QUERY", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "parquet"]),
    default="table",
    show_default=True,
)
@click.option(
    "--out",
    default=None,
    type=click.Path(dir_okay=False),
    help="File for the csv/json/parquet output (never inside a results or index folder).",
)
@click.option("--require-complete", is_flag=True, help="Fail if a results folder is incomplete.")
def sql_cmd(args: tuple[str, ...], fmt: str, out: str | None, require_complete: bool) -> None:
    """Run a read-only SQL QUERY over one or more RESULTS folders (DuckDB)."""
    import warnings
    from pathlib import Path

    from corpusmap.query.sandbox import check_out_path, sql_error
    from corpusmap.query.sql import sql

    usage = 'corpusmap sql RESULTS... "SELECT ..."'
    if not args or (len(args) == 1 and Path(args[0]).is_dir()):
        raise click.UsageError(f"missing QUERY: {usage}")
    *results, query = args
    if not results:
        raise click.UsageError(f"missing RESULTS folder before the query: {usage}")
    for folder in results:
        if not Path(folder).is_dir():
            raise click.UsageError(f"RESULTS {folder!r} is not a folder: {usage}")
    if out and fmt == "table":
        raise click.UsageError("--out needs --format csv, json or parquet")
    if fmt == "parquet" and not out:
        raise CorpusmapError("--format parquet needs --out FILE.parquet")
    if out:
        check_out_path(out, protected=[Path(r) for r in results])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rel = sql(results, query, require_complete=require_complete)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    try:
        if fmt == "table":
            rel.show(max_width=10_000, max_rows=10_000)
            return
        # csv through pandas: it writes list columns (spans, novelty), polars refuses them
        frame = rel.df() if fmt == "csv" else rel.pl()
    except Exception as exc:  # duckdb errors found while running the query
        raise sql_error(exc) from exc
    if fmt == "csv":
        frame.to_csv(out or sys.stdout, index=False)
    elif out:
        getattr(frame, f"write_{fmt}")(out)
    else:
        click.echo(frame.write_json())
    if out:
        click.echo(f"{out}: {len(frame)} rows")


@click.command("report")
@click.argument(
    "results", metavar="RESULTS...", nargs=-1, required=True, type=click.Path(exists=True)
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Report folder.")
def report_cmd(results: tuple[str, ...], out: str) -> None:
    """Write an HTML report with plots over one or more RESULTS folders (side by side)."""
    from corpusmap.query.report import report

    click.echo(str(report(list(results), out)))


def register(cli: click.Group) -> None:
    """Add the pipeline commands to the top-level group."""
    from corpusmap.cli.demo import demo

    for cmd in (prompts_cmd, classify_cmd, sql_cmd, report_cmd, demo):
        cli.add_command(cmd)
