"""replay(): clean stores reproduce, edited rows are caught; the CLI commands end to end."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from corpusmap.generation import generate, replay
from tests.generation.tiny import PROMPTS, write_jsonl

KW = {"max_new_tokens": 10, "num_samples": 2, "temperature": 1.0, "top_k": 30, "part_rows": 5}


def tamper(part, gen_id: str, column: str, edit) -> None:
    """Rewrite one cell of one row of a part file in place."""
    table = pq.read_table(part)
    rows = table.to_pylist()
    for row in rows:
        if row["gen_id"] == gen_id:
            row[column] = edit(row[column])
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), part)


def test_replay_passes_on_a_clean_store(tiny_model, tmp_path):
    out = tmp_path / "G.parquet"
    generate(tiny_model, PROMPTS, out, **KW)
    report = replay(out, sample=0)
    assert report["ok"] and report["checked"] == len(PROMPTS) * 2 == report["matched"]
    sampled = replay(out, sample=3, seed=1, batch_size=2)
    assert sampled["ok"] and sampled["checked"] == 3


@pytest.mark.parametrize(
    ("column", "edit", "problem"),
    [
        ("output_token_ids", lambda ids: [*ids[:-1], (ids[-1] + 1) % 40], "output_token_ids"),
        ("token_logprobs", lambda lps: [lps[0] + 0.5, *lps[1:]], "token_logprobs differ"),
        ("output", lambda text: text + " extra", "output text"),
        ("seed", lambda seed: seed + 1, "seed is not"),
    ],
)
def test_replay_detects_a_tampered_row(tiny_model, tmp_path, column, edit, problem):
    out = tmp_path / "G.parquet"
    generate(tiny_model, PROMPTS, out, **KW)
    tamper(out / "part-00001.parquet", "3:1", column, edit)
    report = replay(out, sample=0)
    assert not report["ok"] and report["mismatched"] == 1
    (bad,) = report["mismatches"]
    assert bad["gen_id"] == "3:1" and bad["run"] == 1
    assert any(problem in p for p in bad["problems"]), bad


def test_replay_refuses_a_changed_model(tiny_model, tmp_path):
    out = tmp_path / "G.parquet"
    generate(tiny_model, PROMPTS[:2], out, max_new_tokens=4)
    manifest = json.loads((out / "_manifest.json").read_text())
    manifest["runs"][0]["params"]["model_hash"] = "sha256:0000"
    (out / "_manifest.json").write_text(json.dumps(manifest))
    report = replay(out)
    assert not report["ok"]
    assert "model_hash differ" in report["mismatches"][0]["problems"][0]


def test_cli_generate_and_replay(tiny_model, tmp_path):
    """Through the real entry point: generate, resume, replay; errors exit 1."""
    from corpusmap.cli import cli

    prompts = write_jsonl(tmp_path / "p.jsonl", [{"prompt": p} for p in PROMPTS])
    out = tmp_path / "G.parquet"
    runner = CliRunner()
    args = ["generate", "--model", tiny_model, "--prompts", str(prompts), "--out", str(out)]
    args += ["--max-new-tokens", "6", "--temperature", "0.7", "--stop", " zzz", "--stop", " ,"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert f"wrote {len(PROMPTS)} rows" in first.output
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and f"skipped {len(PROMPTS)} rows" in again.output
    params = json.loads((out / "_manifest.json").read_text())["runs"][0]["params"]
    assert params["sampling"]["stop"] == [" zzz", " ,"]
    ok = runner.invoke(cli, ["replay", str(out), "--sample", "0", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["ok"]
    tamper(out / "part-00000.parquet", "2:0", "token_logprobs", lambda lps: [x - 1 for x in lps])
    bad = runner.invoke(cli, ["replay", str(out), "--sample", "0"])
    assert bad.exit_code == 1 and "2:0" in bad.output and "do not reproduce" in bad.output
    refused = runner.invoke(cli, [*args[:-4], "--seed", "5"])
    assert refused.exit_code == 1 and "error:" in refused.output and "--new-run" in refused.output
    for command in ("generate", "replay"):
        help_text = runner.invoke(cli, [command, "--help"]).output
        assert len(help_text.split("\n\n")[1]) > 20  # a real description
