"""kill -9 at random moments, then resume: the short version of ``scripts/chaos.py``.

The fast test kills ``index build`` twice; the slow one runs 3 trials of every
stage (build, generate with the tiny model, classify's shards, its pattern
stage, report). Both assert what the script asserts: every resumed output equals
an uninterrupted run's, and no peek after a kill opened a half-written output.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "chaos.py"


def _chaos():  # scripts/ is not a package: load the driver by path
    spec = importlib.util.spec_from_file_location("chaos", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["chaos"] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def _check(tmp_path: Path, stages: str, trials: int, docs: int) -> dict:
    out = tmp_path / "tallies.json"
    rc = _chaos().main(
        ["--trials", str(trials), "--stages", stages, "--docs", str(docs), "--prompts", "8",
         "--work", str(tmp_path / "work"), "--json", str(out), "--seed", "1"]
    )  # fmt: skip
    tallies = json.loads(out.read_text())
    for name, t in tallies.items():
        assert t["trials"] == trials, name
        assert t.get("identical", 0) == trials, (name, t)
        assert t.get("peek corrupt", 0) == 0, (name, t)
    assert rc == 0
    return tallies


def test_chaos_build_short(tmp_path) -> None:
    tallies = _check(tmp_path, "build", trials=2, docs=800)
    assert set(tallies) == {"build"}


@pytest.mark.slow
def test_chaos_every_stage_short(tmp_path) -> None:
    tallies = _check(tmp_path, "build,generate,classify,patterns,report", trials=3, docs=1500)
    assert set(tallies) == {"build", "generate", "classify", "patterns", "report"}
