"""``corpusmap generate`` and ``corpusmap replay``: thin click commands over the API.

Options carry the API's argument names; a :class:`CorpusmapError` propagates to
the main group, which prints ``error: ...`` and exits 1. ``replay`` exits 1 when
a row does not reproduce.
"""

from __future__ import annotations

import json
import sys

import click

from corpusmap.cli.options import ray_option


@click.command("generate")
@click.option("--model", required=True, help="Model folder, .gguf file, 'smollm2' or hub name.")
@click.option(
    "--prompts", required=True, help="Prompts: .jsonl (prompt, id fields), .parquet or .txt."
)
@click.option("--out", required=True, help="Store folder to write or resume, e.g. G.parquet.")
@click.option("--max-new-tokens", default=64, show_default=True, type=int)
@click.option("--temperature", default=0.0, show_default=True, type=float, help="0 = greedy.")
@click.option("--top-p", default=1.0, show_default=True, type=float)
@click.option("--top-k", default=0, show_default=True, type=int, help="0 = off.")
@click.option("--num-samples", default=1, show_default=True, type=int, help="Outputs per prompt.")
@click.option("--batch-size", default=16, show_default=True, type=int)
@click.option("--seed", default=0, show_default=True, type=int, help="Base seed of row seeds.")
@click.option("--engine", type=click.Choice(["hf", "vllm"]), default="hf", show_default=True)
@click.option("--device", default=None, help="torch device (default: cuda if available).")
@click.option("--stop", multiple=True, help="Stop string (repeatable).")
@click.option("--chat-template", is_flag=True, help="Wrap prompts in the model's chat template.")
@click.option("--prompt-field", default="prompt", show_default=True)
@click.option("--id-field", default="id", show_default=True)
@click.option(
    "--new-run",
    is_flag=True,
    help="Add a run with new parameters, or for other prompts, to the store.",
)
@click.option("--part-rows", default=None, type=int, help="Rows per Parquet part.")
@click.option("--dtype", default=None, help="bfloat16 | float16 | float32 (default by device).")
@ray_option
def generate_cmd(**kwargs: object) -> None:
    """Generate outputs for every prompt into a resumable Parquet store.

    Rerun the same command to resume after an interruption; rows already
    written are skipped. Each row records its token ids, log-probs and seed,
    so `corpusmap replay` can check it.
    """
    from corpusmap.generation.api import generate

    kwargs["stop"] = list(kwargs["stop"])  # type: ignore[call-overload]
    model, prompts, out = kwargs.pop("model"), kwargs.pop("prompts"), kwargs.pop("out")
    store = generate(model, prompts, out, **kwargs)  # type: ignore[arg-type]
    s = store.summary
    if s["rows_skipped"]:
        click.echo(f"skipped {s['rows_skipped']} rows already in {s['store']}", err=True)
    click.echo(
        f"wrote {s['rows_written']} rows ({s['tokens']} tokens, {s['tokens_per_s']} tok/s) "
        f"to {s['store']} (run {s['run']})"
    )


@click.command("replay")
@click.argument("generations", metavar="G")
@click.option("--sample", default=20, show_default=True, type=int, help="Rows to check; 0 = all.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the row sample.")
@click.option("--atol", default=None, type=float, help="Log-prob tolerance (default by dtype).")
@click.option("--model", default=None, help="Load the model from here instead of the manifest.")
@click.option("--device", default=None, help="torch device.")
@click.option("--batch-size", default=16, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def replay_cmd(
    generations: str,
    sample: int,
    seed: int,
    atol: float | None,
    model: str | None,
    device: str | None,
    batch_size: int,
    as_json: bool,
) -> None:
    """Regenerate a sample of rows of store G and check they reproduce exactly.

    Exits 1 when any row differs (token ids, output text, or log-probs beyond
    the tolerance).
    """
    from corpusmap.generation.replay import replay

    report = replay(
        generations,
        sample=sample,
        seed=seed,
        atol=atol,
        model=model,
        device=device,
        batch_size=batch_size,
    )
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"checked {report['checked']} rows: {report['matched']} reproduce")
        for m in report["mismatches"][:20]:
            click.echo(f"  {m['gen_id']} (run {m['run']}): {'; '.join(m['problems'])}", err=True)
    if not report["ok"]:
        if not as_json:
            click.echo(f"error: {report['mismatched']} rows do not reproduce", err=True)
        sys.exit(1)
