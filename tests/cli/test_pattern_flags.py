"""The pattern flags: names match ``classify_patterns``, defaults match, help for each, and the
real ``corpusmap classify`` entry point runs them end to end."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import click
import pyarrow.parquet as pq
from click.testing import CliRunner

from corpusmap.cli.pattern_flags import PATTERN_KEYS, collect_pattern_options, pattern_options
from corpusmap.patterns import classify_patterns
from tests.conftest import build_from_docs
from tests.patterns.planted import EXPECTED, make_world


def _command() -> tuple[click.Command, dict[str, Any]]:
    got: dict[str, Any] = {}

    @click.command()
    @click.option("--other", default=1)
    @pattern_options
    def cmd(**kw: Any) -> None:
        got.update(collect_pattern_options(kw))
        got["_rest"] = kw

    return cmd, got


def test_flags_are_the_keywords_with_the_same_defaults() -> None:
    sig = inspect.signature(classify_patterns).parameters
    assert set(PATTERN_KEYS) <= set(sig)
    cmd, got = _command()
    CliRunner().invoke(cmd, [], catch_exceptions=False)
    assert got.pop("_rest") == {"other": 1}
    assert got == {k: sig[k].default for k in PATTERN_KEYS}


def test_flags_parse_and_every_one_has_help() -> None:
    cmd, got = _command()
    args = ["--n-min", "2", "--n-max", "4", "--min-generations", "5", "--e-min", "3.5",
            "--alpha", "0.05", "--support", "7", "--eps", "0.1", "--trigger-n", "2",
            "--top-k", "0", "--feature", "copied>=32", "--corpus-sample", "50"]  # fmt: skip
    CliRunner().invoke(cmd, args, catch_exceptions=False)
    assert got["n_min"] == 2 and got["e_min"] == 3.5 and got["top_k"] == 0
    assert got["feature"] == "copied>=32" and got["behaviors"] is None
    help_text = CliRunner().invoke(cmd, ["--help"]).output
    for key in PATTERN_KEYS:
        assert "--" + key.replace("_", "-") in help_text
    assert all(p.help for p in cmd.params if p.name in PATTERN_KEYS)


def test_corpusmap_classify_end_to_end(tmp_path: Path) -> None:
    from corpusmap.cli import cli

    world = make_world()
    index = build_from_docs(tmp_path, world.texts, tokenizer="words")
    gens = tmp_path / "gens.jsonl"
    with open(gens, "w", encoding="utf-8") as f:
        for row in world.table.to_pylist():
            f.write(json.dumps(row) + "\n")
    out = tmp_path / "results"
    beh = tmp_path / "b.toml"
    beh.write_text('[[behaviors]]\nname = "yonder"\nliteral = "t1c yonder"\n')
    args = ["classify", str(gens), "--index", str(index), "--out", str(out), "--no-minhash",
            "--top-k", "50", "--min-generations", "3", "--behaviors", str(beh)]  # fmt: skip
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    rows = pq.read_table(out / "patterns" / "part-00000.parquet").to_pylist()
    found = {(r["class"], r["pattern"]) for r in rows}
    assert found == {(c, p) for c, ps in EXPECTED.items() for p in ps}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["patterns"]["classes"]["contingent"]["rows"] == 1
    assert manifest["patterns"]["thresholds"]["top_k"] == 50
    # both tables are views in `corpusmap sql`
    query = "SELECT behavior, class, count_generations FROM behaviors"
    res = CliRunner().invoke(cli, ["sql", str(out), "--format", "json", query])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == [
        {"behavior": "yonder", "class": "idiosyncratic", "count_generations": 6}
    ]
    query = "SELECT count(*) AS n FROM patterns WHERE class = 'shared'"
    res = CliRunner().invoke(cli, ["sql", str(out), "--format", "csv", query])
    assert res.output.split() == ["n", str(len(EXPECTED["shared"]))]
