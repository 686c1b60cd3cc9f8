"""``corpusmap demo``: run the pipeline on the embedded corpus and model, print a summary."""

from __future__ import annotations

import click


@click.command("demo")
@click.option(
    "--out",
    default="demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the index, prompts, generations, results and report.",
)
@click.option(
    "--prompts-per-kind",
    default=24,
    show_default=True,
    help="Prompts from ordinary and from repeated corpus text, each.",
)
@click.option("--max-new-tokens", default=40, show_default=True)
@click.option("--model", default="smollm2", show_default=True, help="Model to generate with.")
def demo(out: str, prompts_per_kind: int, max_new_tokens: int, model: str) -> None:
    """Index the embedded corpus, generate with the embedded model, classify, report."""
    from corpusmap.demo import demo as run_demo

    res = run_demo(
        out, prompts_per_kind=prompts_per_kind, max_new_tokens=max_new_tokens, model=model
    )
    click.echo(f"\nindex   {res['index']}: {res['n_docs']:,} documents, {res['n_tokens']:,} words")
    click.echo(f"results {res['results']}   report {res['report']}")
    for title, rows in res["summary"].items():
        click.echo(f"\n{title}:")
        cols = res["columns"][title]
        click.echo("  " + " | ".join(cols))
        for row in rows:
            click.echo(
                "  " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row)
            )
    click.echo(
        f'\nopen {res["report"]} in a browser; query with `corpusmap sql {res["results"]} "..."`'
    )
