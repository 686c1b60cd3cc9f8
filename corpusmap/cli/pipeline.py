"""Commands for the later stages (prompts, classify, sql, report, demo)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the pipeline commands that are available to the top-level group."""
    from corpusmap.cli.demo import demo

    cli.add_command(demo)
