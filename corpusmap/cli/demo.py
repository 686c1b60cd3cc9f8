"""``corpusmap demo``: run the pipeline on the embedded corpus and model, print a summary."""

from __future__ import annotations

from typing import Any

import click

KIND_TEXT = {
    "sampled": "sampled from the whole corpus",
    "bible": "sampled from the King James Bible",
    "repeated": "text the corpus holds 2+ times",
    "opening": "openings of well-known chapters (once in this corpus)",
    "sweep": "the openings with prompt noise",
    "question": "questions through the chat template",
}


def _pct(v: Any) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _kinds(counts: dict[str, int], asked: int) -> str:
    parts = [f"{n} {k}" for k, n in counts.items()]
    note = "".join(
        f"\n  ({k}: {counts.get(k, 0)} of {asked} asked; sampling found no more)"
        for k in ("repeated",)
        if counts.get(k, 0) < asked
    )
    return f"{sum(counts.values())} prompts: " + ", ".join(parts) + note


def _pattern(t: dict[str, Any]) -> str:
    """One pattern row: the n-gram and its counts; a trigger with both continuations."""
    if not t["count_generations"]:
        return (
            f"{t['pattern']!r}  (corpus {t['count_corpus']:,}; expected "
            f"{t['expected_generations']:.1f} times in the generations, found 0)"
        )
    if not t.get("continuation"):
        return (
            f"{t['pattern']!r}  (corpus {t['count_corpus']:,}; generations "
            f"{t['count_generations']:,}, in {t['n_generations']:,} distinct)"
        )
    corpus = ", ".join(f"{c['text']!r} {_pct(c['prob'])}" for c in t["corpus_top"][:2])
    return (
        f"{t['pattern']!r} -> model {t['continuation']!r} in {t['n_generations']} "
        f"generations; corpus: {corpus or '–'}"
    )


def print_summary(res: dict[str, Any], asked: int) -> None:
    """The demo's console summary: each measure with its parameter, classes with examples."""
    s = res["summary"]
    echo = click.echo
    echo(f"\nindex   {res['index']}: {res['n_docs']:,} documents, {res['n_tokens']:,} words")
    echo(_kinds(res["prompts"], asked))
    echo("\nmeasures (each also `SELECT * FROM <macro>` in `corpusmap sql`; tokens are words):")
    for m in s["measures"]:
        echo(f"  {m['label']:<28} {_pct(m['value']):>7} of {m['n']:>3}   {m['query']}")
        echo(f"    {m['definition']}")
    for h in s["human_novelty"]:
        echo(
            f"  human baseline novelty (n={s['params']['n']}): {_pct(h['novelty'])} "
            f"of {h['n_texts']} true continuations"
        )
    if s["by_kind"]:
        p = s["params"]
        echo(
            f"\nby prompt kind     n   copy (L={p['L']})  memorized (k={p['k']})  "
            f"novelty (n={p['n']})"
        )
        order = list(res["prompts"])  # the order the prompt counts are printed in
        for r in sorted(
            s["by_kind"], key=lambda r: order.index(r["kind"]) if r["kind"] in order else 99
        ):
            echo(
                f"  {r['kind']:<14} {r['n']:>3}   {_pct(r['copy']):>10}  "
                f"{_pct(r['memorized']):>15}  {_pct(r['novelty']):>13}"
            )
    echo(
        f"\npattern classes over the generations of unperturbed prompts (thresholds: "
        f"{res['thresholds_text']});\neach with its top rows by keyness, the most "
        "over-represented on its side first:"
    )
    for cls, info in s["classes"].items():
        echo(f"  {cls} ({info['count']}): {info['meaning']}")
        for t in info["top"]:
            echo(f"      {_pattern(t)}")
    if s["behaviors"]:
        echo("\nbehaviours (mutual information, bits, between the behaviour in prompt and output):")
        for b in s["behaviors"]:
            mi = "–" if b["mi_bits"] is None else f"{b['mi_bits']:.3f}"
            echo(
                f"  {b['behavior']:<22} MI {mi:>6}   corpus rate {b['rate_corpus']:.3g}, "
                f"generation rate {b['rate_generations']:.3g}"
            )
    if s["sweep"]:
        p = s["params"]
        echo(f"\nnoise sweep (SELECT * FROM noise_sweep({p['k']}, {p['L']}, {p['n']})):")
        for r in s["sweep"]:
            echo(
                f"  {r['noise']:<10} rate {r['noise_rate']:<5g} n={r['n']:<3} memorized "
                f"(k={p['k']}) {_pct(r['memorization_rate']):>6}  copy (L={p['L']}) "
                f"{_pct(r['copy_rate']):>6}  novelty (n={p['n']}) {_pct(r['novelty']):>6}"
            )
    if s["spans"]:
        echo("\nlongest copied spans (not in the prompt; the longest per generation):")
        for sp in s["spans"]:
            echo(f"  {sp['length']:>3} words  {sp['gen_id']:<12} {sp['text'][:80]!r}")
    echo(f'\nopen {res["report"]} in a browser; query with `corpusmap sql {res["results"]} "..."`')


@click.command("demo")
@click.option(
    "--out",
    default="demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the index, prompts, generations, results and report.",
)
@click.option(
    "--prompts-per-kind",
    default=40,
    show_default=True,
    help="Prompts of each kind: corpus-sampled, Bible (twice N), repeated text (as many as found), "
    "questions (at most 40); plus 7 chapter openings and their noise sweep (28).",
)
@click.option("--max-new-tokens", default=32, show_default=True)
@click.option("--model", default="smollm2", show_default=True, help="Model to generate with.")
def demo(out: str, prompts_per_kind: int, max_new_tokens: int, model: str) -> None:
    """Index the embedded corpus, generate with the embedded model, classify, report."""
    from corpusmap.demo import demo as run_demo

    res = run_demo(
        out, prompts_per_kind=prompts_per_kind, max_new_tokens=max_new_tokens, model=model
    )
    print_summary(res, prompts_per_kind)
