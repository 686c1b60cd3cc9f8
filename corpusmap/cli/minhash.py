"""``corpusmap index minhash``, ``near-dups`` and ``dups``: the MinHash API on the command line.

Each command opens the index and calls the function of the same name
(``build_minhash_for``, ``near_duplicates``, ``self_duplicates``) with the same
argument names, then prints a table (rich) or JSON. ``minhash`` writes a side folder
for any index (an infini-gram one too); ``near-dups``/``dups`` read it with
``--minhash DIR``. Registered under ``corpusmap index`` by ``corpusmap/cli/index.py``.

What it leaves out: no paging of huge outputs; use ``--json`` or ``--out`` and a
tool of your choice (DuckDB reads the Parquet directly).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import click

from corpusmap.cli.options import foreign_options, minhash_dir_option, ray_option
from corpusmap.errors import InputError


def _read_texts(file: str, field: str) -> list[str]:
    """One text per line, or JSONL records (``.jsonl``/``.json``, or lines starting ``{``)."""
    lines = Path(file).read_text(encoding="utf-8").splitlines()
    is_jsonl = file.endswith((".jsonl", ".json")) or (bool(lines) and lines[0].lstrip()[:1] == "{")
    if not is_jsonl:
        return lines
    texts = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)[field]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                file,
                f"expected a JSON object with a {field!r} field ({exc!r}); "
                "choose the field with --field",
                line=n,
            ) from exc
        if not isinstance(value, str):
            raise InputError(file, f"field {field!r} is not a string", line=n)
        texts.append(value)
    return texts


def _snippet(ix: Any, doc_id: int, width: int = 48) -> str:
    text = " ".join(ix.document(doc_id).split())
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command("near-dups")
@click.argument("index", metavar="INDEX", type=click.Path(file_okay=False))
@click.argument("texts", metavar="[TEXT]...", nargs=-1)
@click.option(
    "--file",
    type=click.Path(exists=True, dir_okay=False),
    help="Texts to look up: one per line, or JSONL records (see --field).",
)
@click.option("--field", default="text", show_default=True, help="JSONL field holding the text.")
@click.option("--tokens", is_flag=True, help="Each TEXT is whitespace-separated token ids.")
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Minimum Jaccard (default: the threshold the index was built for).",
)
@click.option("--limit", default=10, show_default=True, help="Most documents per text.")
@click.option("--exact", is_flag=True, help="Also compute exact shingle Jaccard; filter by it.")
@click.option("--workers", default=1, show_default=True, help="Tokenizer processes (big --file).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one list per text).")
@minhash_dir_option
@foreign_options
@ray_option
def near_dups_cmd(
    index: str,
    texts: tuple[str, ...],
    file: str | None,
    field: str,
    tokens: bool,
    threshold: float | None,
    limit: int,
    exact: bool,
    workers: int,
    as_json: bool,
    minhash: str | None,
    tokenizer: str | None,
    cache_dir: str | None,
    ray: str | None = None,
) -> None:
    """Corpus documents that near-duplicate each TEXT (MinHash LSH, estimated Jaccard)."""
    from corpusmap.index.minhash.query import near_duplicates
    from corpusmap.index.opening import open_index

    items: list[Any] = list(texts) + (_read_texts(file, field) if file else [])
    if not items:
        raise click.UsageError("give at least one TEXT or --file")
    if tokens:
        items = [[int(t) for t in s.split()] for s in items]
    ix = open_index(index, tokenizer, cache_dir=cache_dir, minhash=minhash, ray=ray)
    found = near_duplicates(
        ix, items, threshold=threshold, limit=limit, exact=exact, workers=workers
    )
    res = cast(list[list[dict[str, Any]]], found)  # a list of texts -> a list per text
    if as_json:
        click.echo(json.dumps(res, ensure_ascii=False, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for k, (item, hits) in enumerate(zip(items, res, strict=True)):
        label = item if isinstance(item, str) else " ".join(map(str, item))
        title = f"[{k}] {len(hits)} near-duplicate(s) of {label[:40]!r}"
        table = Table(title=title, title_justify="left")
        for col in ("doc_id", "jaccard", *(["exact"] if exact else []), "source", "text"):
            table.add_column(col)
        for h in hits:
            cells = [str(h["doc_id"]), f"{h['jaccard']:.3f}"]
            if exact:
                cells.append(f"{h['exact_jaccard']:.3f}")
            cells += [f"{Path(h['source'] or '').name}:{h['row']}", _snippet(ix, h["doc_id"])]
            table.add_row(*cells)
        console.print(table)


@click.command("dups")
@click.argument("index", metavar="INDEX", type=click.Path(file_okay=False))
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Minimum Jaccard to link two documents (default: the build threshold).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per cluster.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write doc_id, cluster_id, cluster_size to this Parquet file.",
)
@click.option("--top", default=20, show_default=True, help="Largest clusters shown in the table.")
@minhash_dir_option
@foreign_options
def dups_cmd(
    index: str,
    threshold: float | None,
    as_json: bool,
    out: str | None,
    top: int,
    minhash: str | None,
    tokenizer: str | None,
    cache_dir: str | None,
) -> None:
    """Clusters of near-duplicate documents inside the corpus, and their sizes."""
    import pyarrow.parquet as pq

    from corpusmap.index.minhash.dups import self_duplicates
    from corpusmap.index.opening import open_index

    ix = open_index(index, tokenizer, cache_dir=cache_dir, minhash=minhash)
    table = self_duplicates(ix, threshold=threshold)
    if out:
        pq.write_table(table, out)
    groups: dict[int, list[int]] = {}
    for d, c in zip(
        table.column("doc_id").to_pylist(), table.column("cluster_id").to_pylist(), strict=True
    ):
        groups.setdefault(c, []).append(d)
    clusters: list[dict[str, Any]] = [
        {"cluster_id": c, "cluster_size": len(ds), "doc_ids": ds} for c, ds in groups.items()
    ]
    if as_json:
        click.echo(json.dumps(clusters))
        return
    from rich.console import Console
    from rich.table import Table

    n_in = table.num_rows
    title = (
        f"{len(clusters):,} near-duplicate cluster(s), {n_in:,} of {ix.n_docs:,} "
        f"documents ({n_in / max(ix.n_docs, 1):.1%})"
    )
    t = Table(title=title, title_justify="left")
    for col in ("cluster_id", "size", "doc_ids", "text"):
        t.add_column(col)
    for c in clusters[:top]:
        ids = c["doc_ids"]
        shown = ", ".join(map(str, ids[:5])) + (", …" if len(ids) > 5 else "")
        t.add_row(str(c["cluster_id"]), str(c["cluster_size"]), shown, _snippet(ix, ids[0]))
    Console().print(t)
    if out:
        click.echo(f"wrote {out}")


@click.command("minhash")
@click.argument("index", metavar="INDEX", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Side folder to write (never inside INDEX); pass it to near-dups/dups/classify.",
)
@click.option("--threshold", default=0.8, show_default=True, help="Jaccard the bands aim at.")
@click.option("--num-perm", default=128, show_default=True, help="MinHash permutations.")
@click.option("--shingle", default=5, show_default=True, help="Shingle size in tokens.")
@click.option("--seed", default=1, show_default=True, help="Permutation seed (datasketch's).")
@click.option("--workers", default=1, show_default=True, help="Signing threads.")
@click.option("--force", is_flag=True, help="Replace a side folder made for another index.")
@foreign_options
def minhash_cmd(
    index: str,
    out: str,
    threshold: float,
    num_perm: int,
    shingle: int,
    seed: int,
    workers: int,
    force: bool,
    tokenizer: str | None,
    cache_dir: str | None,
) -> None:
    """Add MinHash signatures of any index's documents (infini-gram too) in a side folder."""
    from corpusmap.index.minhash.side_folder import build_minhash_for
    from corpusmap.index.opening import open_index

    ix = open_index(index, tokenizer, cache_dir=cache_dir)
    rec = build_minhash_for(
        ix,
        out,
        workers=workers,
        num_perm=num_perm,
        shingle=shingle,
        seed=seed,
        threshold=threshold,
        force=force,
    )
    click.echo(
        f"{out}: {rec['n_docs']:,} signatures, {rec['bands']} bands x {rec['rows']} rows; "
        f"use it with --minhash {out}"
    )
