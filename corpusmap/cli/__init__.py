"""The ``corpusmap`` command line: a thin layer over the Python API.

Each command opens what it needs and calls the library function of the same
name with the same argument names. A :class:`CorpusmapError` becomes one
``error: ...`` line on stderr and exit status 1; anything else is a bug and shows
its traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from corpusmap import __version__
from corpusmap.errors import CorpusmapError


class CorpusmapGroup(click.Group):
    """A click group that turns library errors into a clean message and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CorpusmapError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=CorpusmapGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="corpusmap")
def cli() -> None:
    """corpusmap: map what a language model was trained on against what it generates.

    Build suffix-array and MinHash indexes over a corpus (`index`), generate
    model outputs into Parquet (`prompts`, `generate`, `replay`), classify them
    against the index (`classify`) and query the results with SQL (`sql`,
    `report`, and in a browser: `serve`). `demo` runs the whole pipeline on the
    embedded corpus and model.
    """


def _register() -> None:
    from corpusmap.cli.index import index

    cli.add_command(index)
    from corpusmap.cli.generate import generate_cmd, replay_cmd

    cli.add_command(generate_cmd, "generate")
    cli.add_command(replay_cmd, "replay")
    from corpusmap.cli import pipeline

    pipeline.register(cli)
    from corpusmap.cli.serve import serve_cmd

    cli.add_command(serve_cmd, "serve")


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="corpusmap")
