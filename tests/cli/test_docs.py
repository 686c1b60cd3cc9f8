"""Every CLI command has help text and a README mention (as sqlite-utils checks)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from corpusmap.cli import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "corpusmap") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        out.append((path, cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, path))
    return out


COMMANDS = _commands(cli)


def test_the_pipeline_commands_exist() -> None:
    names = {p for p, _ in COMMANDS}
    for expected in (
        "corpusmap index build",
        "corpusmap index count",
        "corpusmap index locate",
        "corpusmap index ntd",
        "corpusmap index match",
        "corpusmap prompts",
        "corpusmap classify",
        "corpusmap sql",
        "corpusmap demo",
    ):
        assert expected in names


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_has_help_and_readme_mention(path: str, cmd: click.Command) -> None:
    assert (cmd.help or "").strip(), f"{path} has no help text"
    assert path in README, f"README does not mention `{path}`"
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.is_flag and param.name != "help":
            assert param.help or param.default is not None or param.required, f"{path} {param.opts}"
