"""The ``corpusmap`` command line: a thin layer over the Python API.

Each command opens what it needs and calls the library function of the same
name with the same argument names. A :class:`CorpusmapError` becomes one
``error: ...`` line on stderr and exit status 1, and so does an ``OSError``,
decode or pyarrow error that can be tied to a path the user typed
(:mod:`corpusmap.cli.user_errors`); anything else is a bug and shows its
traceback. ``CORPUSMAP_DEBUG=1`` shows every traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from corpusmap import __version__
from corpusmap.cli.user_errors import debug, one_line, user_input_message
from corpusmap.errors import CorpusmapError


class CorpusmapGroup(click.Group):
    """A click group that turns input errors into a clean message and exit 1."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["corpusmap.argv"] = list(args)  # the paths the user typed, for user_errors
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CorpusmapError as exc:
            if debug():
                raise
            message = str(exc)
        except Exception as exc:  # only what user_errors ties to a typed path; else re-raised
            found = user_input_message(exc, ctx.meta.get("corpusmap.argv", []))
            if found is None or debug():
                raise
            message = found
        click.echo(f"error: {one_line(message)}", err=True)
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
