"""Options shared by several commands: ``--ray``."""

from __future__ import annotations

import click

ray_option = click.option(
    "--ray",
    "ray",
    default=None,
    metavar="local|ADDRESS",
    help="Run on Ray: `local` starts Ray on this machine, an address (auto, ray://host:10001, "
    "host:6379) joins a cluster. Needs pip install 'corpusmap[ray]'.",
)
