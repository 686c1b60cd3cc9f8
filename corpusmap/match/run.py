"""``classify``: join a generation dump against a corpus index into a results folder.

Results folder layout (every table is a folder of Parquet parts, one per
generation shard, each written to a hidden temp name and renamed into place)::

    RESULTS/manifest.json              inputs, index fingerprint, parameters, versions,
                                       finished shards
    RESULTS/generations/part-KKKKK.parquet   one row per generation (DESIGN "Result schema")
    RESULTS/spans/part-KKKKK.parquet         maximal corpus spans >= min_span
    RESULTS/baseline/part-KKKKK.parquet      human baseline (corpus-sampled prompts only)
    RESULTS/patterns/...                     the four classes (``corpusmap.patterns``)

Rerunning the same command resumes: shards listed as finished in the manifest
are skipped, and so are the pattern stage's finished steps (``patterns.steps``).
Other inputs or parameters into the same folder are refused (``force`` starts
over).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpusmap import __version__
from corpusmap.atomic import write_json, write_parquet
from corpusmap.errors import CorpusmapError
from corpusmap.index.index import Index
from corpusmap.index.opening import open_index
from corpusmap.match.inputs import fingerprint, load_generations
from corpusmap.match.score import MatchParams, score_shard
from corpusmap.patterns import classify_patterns
from corpusmap.patterns.run import check_pattern_inputs, encode_generations
from corpusmap.progress import progress_bar
from corpusmap.ray_runtime import one_session
from corpusmap.sources.discover import check_output_folder
from corpusmap.tokenizer.batch import TokenBatch

RESULTS_FORMAT = "corpusmap-results"
RESULTS_VERSION = 1
TABLES = ("generations", "spans", "baseline")


def write_part(folder: Path, name: str, table: pa.Table) -> None:
    """Write a Parquet part atomically (:func:`corpusmap.atomic.write_parquet`)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_parquet(folder / name, table)


def _pattern_rows(
    table: pa.Table, encoded: tuple[Any, dict[str, TokenBatch]]
) -> tuple[pa.Table, tuple[Any, dict[str, TokenBatch]]]:
    """The generations the four classes count: those of unperturbed prompts.

    A noise sweep (``prompts --noise``) prompts the model with perturbed copies of
    one prompt; their generations are not independent, and would make any
    continuation of that prompt "recur" in several generations.
    """
    if "noise" not in table.column_names or table.column("noise").null_count == table.num_rows:
        return table, encoded
    keep = pc.is_null(table.column("noise")).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(keep)
    tok, batches = encoded
    return table.take(rows), (tok, {c: b.take(rows) for c, b in batches.items()})


def _load_manifest(out: Path) -> dict[str, Any] | None:
    import json

    path = out / "manifest.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


@one_session
def classify(
    generations: str | os.PathLike | pa.Table,
    index: Index | str | os.PathLike,
    out: str | os.PathLike,
    *,
    prompt_field: str = "prompt",
    output_field: str = "output",
    id_field: str | None = None,
    min_span: int | None = None,
    coverage_lengths: list[int] | None = None,
    max_n: int | None = None,
    top_docs: int = 3,
    repetition_n: int | None = None,
    extraction_k: int | None = None,
    minhash: bool = True,
    shard_rows: int = 2000,
    patterns: bool = True,
    pattern_options: dict[str, Any] | None = None,
    force: bool = False,
    ray: str | None = None,
    on_error: str = "raise",
) -> Path:
    """Score every generation against the corpus index and write ``out``.

    Args:
        generations: a corpusmap generation store, or a JSONL/Parquet dump with
            prompt and output columns (named by ``prompt_field``/``output_field``).
        index: the corpus index (open or its folder).
        out: the results folder.
        min_span: shortest corpus span recorded (index tokens; default 50 bytes / 10 tokens).
        coverage_lengths: the L of coverage@L.
        max_n: novelty@n for n = 1..max_n.
        top_docs: source documents kept per span.
        repetition_n: n-gram size of self-repetition.
        extraction_k: k of k-extractable (default: the whole continuation).
        minhash: add the nearest corpus document by MinHash when the index has one.
        shard_rows: generations per shard (the unit of resume).
        patterns: also classify patterns into the four classes.
        pattern_options: thresholds for the pattern classes (see ``corpusmap.patterns``).
        force: discard an existing results folder made from other inputs.
        ray: ``"local"`` or a cluster address: shards are scored as Ray tasks
            (``ray_classify``), and the pattern stage builds the generations index
            and runs its per-shard work as tasks (``patterns.ray_patterns``); index
            and ``out`` on a filesystem every node sees. The results are row for row
            those of a local run.
        on_error: ``raise`` on a generation with a null output or prompt, or ``skip``
            it and count it (``manifest["skipped"]``).

    Returns:
        The results folder.
    """
    ix = index if isinstance(index, Index) else open_index(index)
    out = Path(out)
    check_output_folder(out, RESULTS_FORMAT)
    if patterns:
        check_pattern_inputs(**(pattern_options or {}))
    skipped: dict[str, int] = {}
    table = load_generations(generations, prompt_field, output_field, id_field, on_error, skipped)
    params = MatchParams(
        min_span=min_span or 0,
        coverage_lengths=list(coverage_lengths or []),
        max_n=max_n or 0,
        top_docs=top_docs,
        repetition_n=repetition_n or 0,
        extraction_k=extraction_k,
        minhash=minhash,
    ).resolve(ix.spec.kind)
    plan = {
        "input": str(generations) if not isinstance(generations, pa.Table) else "<table>",
        "input_fingerprint": fingerprint(table),
        "n_generations": table.num_rows,
        "index": str(ix.path.resolve()),
        "index_fingerprint": ix.manifest["corpus_fingerprint"],
        "tokenizer": ix.spec.to_dict(),
        "params": asdict(params),
        "shard_rows": shard_rows,
    }
    manifest = _load_manifest(out)
    if manifest is not None and (force or manifest.get("plan") != plan):
        if not force:
            raise CorpusmapError(
                f"{out} holds results of other inputs or parameters; pass --force to replace "
                "them or choose another --out"
            )
        shutil.rmtree(out)
        manifest = None
    if manifest is None:
        out.mkdir(parents=True, exist_ok=True)
        manifest = {
            "format": RESULTS_FORMAT,
            "format_version": RESULTS_VERSION,
            "corpusmap_version": __version__,
            "plan": plan,
            "finished": [],
            "skipped": skipped,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        write_json(out / "manifest.json", manifest)
    elif patterns and "completed_at" in manifest:
        # a rerun redoes the pattern stage: until it ends, the folder is not complete
        manifest.pop("completed_at")
        write_json(out / "manifest.json", manifest)
    # every text tokenized once for the run; shards and the pattern stage take slices
    encoded = encode_generations(ix.tokenizer, table)
    finished = set(manifest["finished"])
    starts = list(range(0, table.num_rows, shard_rows))
    todo = [k for k in range(len(starts)) if f"part-{k:05d}.parquet" not in finished]
    with progress_bar() as prog:
        task = prog.add_task("classify", total=table.num_rows, unit="gen")
        todo_rows = sum(min(shard_rows, table.num_rows - starts[k]) for k in todo)
        prog.advance(task, table.num_rows - todo_rows)

        def done(part: str, n_rows: int) -> None:
            manifest["finished"].append(part)
            write_json(out / "manifest.json", manifest)
            prog.advance(task, n_rows)

        if ray is not None and todo:
            from corpusmap import ray_runtime
            from corpusmap.match.ray_classify import score_on_ray

            with ray_runtime.session(ray) as rt:
                score_on_ray(rt, ix, table, encoded[1], params, out, shard_rows, todo, done)
            todo = []
        for k in todo:
            rows = table.slice(starts[k], shard_rows)
            batches = {c: b.slice(starts[k], starts[k] + shard_rows) for c, b in encoded[1].items()}
            part = f"part-{k:05d}.parquet"
            for name, result in score_shard(ix, rows, batches, params).items():
                if result is not None and result.num_rows:
                    write_part(out / name, part, result)
            done(part, rows.num_rows)
    if patterns:
        counted, counted_batches = _pattern_rows(table, encoded)
        manifest["patterns"] = classify_patterns(
            out, counted, ix, encoded=counted_batches, ray=ray, **(pattern_options or {})
        )
        manifest["patterns"]["over"] = (
            "generations of unperturbed prompts" if counted.num_rows < table.num_rows else "all"
        )
    manifest["completed_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_json(out / "manifest.json", manifest)
    return out
