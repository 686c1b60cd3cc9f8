"""Options shared by several commands: ``--ray``, ``--tokenizer``/``--cache-dir``, ``--minhash``.

``foreign_options`` are what opening a foreign (infini-gram) folder needs, on every
command that opens an index; ``minhash_dir_option`` is the ``--minhash DIR`` flag (a
MinHash side folder) of ``near-dups``, ``dups`` and ``classify``; ``ray_option`` runs a
stage on Ray. One home, so the flags read the same everywhere. What it leaves out:
commands that build an index take no foreign options.
"""

from __future__ import annotations

from typing import Any

import click

ray_option = click.option(
    "--ray",
    "ray",
    default=None,
    metavar="local|ADDRESS",
    help="Run on Ray: `local` starts Ray on this machine, an address (auto, ray://host:10001, "
    "host:6379) joins a cluster. Needs pip install 'corpusmap[ray]'.",
)

_foreign_opts = [
    click.option(
        "--tokenizer",
        default=None,
        help="infini-gram u16/u32 folders: the tokenizer they were built with "
        "(tokenizer.json, model folder, ids:N...); our indexes: refuse another one.",
    ),
    click.option(
        "--cache-dir",
        default=None,
        type=click.Path(file_okay=False),
        help="Side files of a foreign index (default ~/.cache/corpusmap/<hash>).",
    ),
]

minhash_dir_option = click.option(
    "--minhash",
    "minhash",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="MinHash side folder made for this index by `corpusmap index minhash` "
    "(default: the index's own MinHash).",
)


def foreign_options(fn: Any) -> Any:
    """Add ``--tokenizer`` and ``--cache-dir`` to a command."""
    for opt in reversed(_foreign_opts):
        fn = opt(fn)
    return fn
