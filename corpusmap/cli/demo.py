"""``corpusmap demo``: run the pipeline on the embedded corpus and print a summary."""

from __future__ import annotations

import click


@click.command("demo")
@click.option("--out", default="demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the index and results.")  # fmt: skip
def demo(out: str) -> None:
    """Index the embedded corpus (KJV + Wikipedia leads) and query it, offline."""
    from corpusmap.demo import demo as run_demo

    res = run_demo(out)
    click.echo(f"index {res['index']}: {res['n_docs']:,} documents, {res['n_tokens']:,} tokens")
    click.echo("counts:")
    for q, c in res["counts"].items():
        click.echo(f"  {c:>8,}  {q!r}")
    click.echo("'And God said' occurs in:")
    for h in res["locate"]:
        click.echo(f"  doc {h['doc_id']} ({h['id']}) at byte {h['offset']}")
    ntd = res["ntd"]
    shown = ", ".join(f"{d['text']!r} {d['prob']:.2f}" for d in ntd["distribution"])
    click.echo(f"after 'In the beginning' ({ntd['total']} continuations): {shown}")
    lm = res["longest_match"]
    click.echo(f"longest corpus match in the sample passage: {lm['length']} bytes: {lm['text']!r}")
