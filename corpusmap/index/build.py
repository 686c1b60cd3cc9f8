"""``build_index``: corpus files -> documents -> tokens -> sorted shards -> index.

Stages, streaming, in order: read documents (``corpusmap.sources``), encode them
in worker processes (``tokenizer.parallel``), append them to the current shard
(``writer``), and when a shard is full hand it to a thread pool that sorts its
suffix array and checksums it (``finish``) while reading goes on. Everything is
written under ``.NAME.building``; the manifest is written last and the folder is
renamed into place (``finish.publish``), so a killed build never leaves anything
that opens as an index. Rerunning the same command resumes: finished shards whose
checksums still match are kept and their documents skipped without tokenizing.

With ``ray``, the shards are Ray tasks instead (``ray_build``): same plan, same
files, the driver still publishes. Without ``shard_tokens`` the corpus is spread
over the cores (``sharding.default_shard_tokens``); the manifest's ``sharding``
says which rule gave the shard size.

What it leaves out: shards are cut at document boundaries (a document never spans
two shards), so one document must fit in a shard (< 2^31 bytes of tokens).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from corpusmap.atomic import write_json
from corpusmap.errors import CorpusmapError, NoDocumentsError
from corpusmap.index.build_inputs import (
    Sources,
    in_memory,
    inputs_fingerprint,
    iter_documents,
)
from corpusmap.index.format import (
    FORMAT_NAME,
    MANIFEST,
    building_dir,
    read_manifest,
    shard_name,
)
from corpusmap.index.input_checks import describe, unique_inputs
from corpusmap.index.publish import finished_shard, index_manifest, publish
from corpusmap.index.sharding import DEFAULT_SHARD_TOKENS, resolve_sharding, write_shards
from corpusmap.progress import progress_bar
from corpusmap.sources.discover import check_output_folder
from corpusmap.sources.document import Document, ReadStats
from corpusmap.tokenizer import Tokenizer, resolve_tokenizer, save_to_index
from corpusmap.tokenizer.spec import width_for
from corpusmap.tokenizer.words import WordsTokenizer, count_words

__all__ = ["DEFAULT_SHARD_TOKENS", "build_index", "iter_documents"]


def _prepare_tokenizer(
    spec: str | Tokenizer, building: Path, docs: Iterator[Document]
) -> Tokenizer:
    """Resolve the tokenizer; for ``words``, learn the vocabulary (pass one) or reuse it."""
    vocab = building / "vocab.txt"
    if not isinstance(spec, str):  # a tokenizer object, e.g. an index's own
        save_to_index(spec, building)
        return spec
    if spec == "words":
        if vocab.is_file():
            return WordsTokenizer.load(vocab)
        with progress_bar() as prog:
            task = prog.add_task("learn vocabulary", total=None, unit="doc")

            def texts() -> Iterator[str]:
                for d in docs:
                    prog.advance(task)
                    if d.text is not None:
                        yield d.text

            tok: Tokenizer = WordsTokenizer.from_counts(count_words(texts()))
    else:
        resolved = resolve_tokenizer(spec)
        assert resolved is not None
        tok = resolved
    save_to_index(tok, building)
    return tok


def _open_building(building: Path, plan: dict[str, Any]) -> None:
    """Keep ``building`` if an earlier run had the same plan, else start it afresh."""
    plan_path = building / "build.json"
    if building.exists():
        try:
            same = json.loads(plan_path.read_text(encoding="utf-8")) == plan
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(building)
    building.mkdir(parents=True, exist_ok=True)
    write_json(plan_path, plan)


def _resume(building: Path) -> list[dict[str, Any]]:
    """Records of shards finished by an earlier run of the same plan (a prefix)."""
    done: list[dict[str, Any]] = []
    for k in itertools.count():
        rec = finished_shard(building / shard_name(k))
        if rec is None:
            break
        done.append(rec)
    for stale in building.glob("shard-*"):
        if int(stale.name.split("-")[1]) >= len(done):
            shutil.rmtree(stale)
    return done


def _minhash(
    building: Path, tok: Tokenizer, width: str, records: list[dict[str, Any]], workers: int,
    ray: str | None,
) -> None:  # fmt: skip
    from corpusmap.index.minhash.build import build_minhash

    build_minhash(building, tok, width, records, workers=workers, ray=ray)


def build_index(
    sources: Sources,
    out: str | os.PathLike,
    tokenizer: str | Tokenizer = "bytes",
    *,
    text_field: str = "text",
    id_field: str | None = None,
    lines: bool = False,
    shard_tokens: int | None = None,
    workers: int | None = None,
    on_error: str = "raise",
    token_dtype: str | None = None,
    eod_id: int | None = None,
    minhash: bool = True,
    force: bool = False,
    ray: str | None = None,
) -> Path:
    """Build a corpus index (suffix arrays, document table, MinHash) at ``out``.

    Args:
        sources: files/folders (JSONL, Parquet, text, Arrow/HF ``save_to_disk``,
            pre-tokenized ``.npy``/raw), or ``embedded`` for the built-in corpus; or,
            in memory, an Arrow table (``text_field``/``id_field`` columns) or an
            iterable of ``Document`` (text or pre-tokenized ``tokens``).
        out: the index folder to create, e.g. ``indexes/NAME``.
        tokenizer: spec string (see ``corpusmap.tokenizer``), ``bytes`` by default, or a
            tokenizer object (e.g. ``Index.tokenizer``, to index generations the same way).
        text_field / id_field: record fields holding the text and an optional id.
        lines: plain-text files hold one document per line.
        shard_tokens: tokens per shard, counting one separator per document (a shard
            closes at the first document that reaches it). Default: 2 x cores + 1
            shards (on Ray: one per CPU) for corpora of 4M tokens or more, at most 2^28
            tokens each.
        workers: processes for encoding, threads for sorting (default: all cores).
        on_error: ``raise`` on bad records, or ``skip`` and count them.
        token_dtype / eod_id: for pre-tokenized inputs.
        minhash: also build the MinHash near-duplicate index.
        force: replace an existing index built from other inputs or parameters.
        ray: ``"local"`` or a cluster address: shards are built as Ray tasks on the
            cluster (inputs and ``out``'s folder must be on a filesystem every node
            sees); the files are those of a local build with the same ``shard_tokens``.

    Returns:
        The path of the published index.
    """
    out = Path(out)
    if not isinstance(sources, str | os.PathLike | pa.Table | list | tuple):
        sources = list(sources)  # an iterable is read once: paths or documents
    memory = in_memory(sources, text_field, id_field)
    srcs: list[Any] = (
        memory
        if memory is not None
        else [str(s) for s in ([sources] if isinstance(sources, str | os.PathLike) else sources)]  # type: ignore[union-attr]
    )
    if not srcs:
        raise CorpusmapError("no sources given: name corpus files or folders, or `embedded`")
    if shard_tokens is not None and shard_tokens < 1:
        raise CorpusmapError(
            f"--shard-tokens must be a positive number of tokens (got {shard_tokens})"
        )
    named = describe(srcs) if memory is None else "the in-memory documents"
    if memory is None:
        srcs = unique_inputs(srcs)
    workers = max(1, workers or os.cpu_count() or 1)
    params = {
        "tokenizer": tokenizer if isinstance(tokenizer, str) else tokenizer.spec.to_dict(),
        "text_field": text_field,
        "id_field": id_field,
        "lines": lines,
        "shard_tokens": shard_tokens,
        "on_error": on_error,
        "token_dtype": token_dtype,
        "eod_id": eod_id,
        "minhash": minhash,
    }
    check_output_folder(out, FORMAT_NAME)
    plan = {"params": params, "sources": inputs_fingerprint(srcs)}
    if (out / MANIFEST).is_file() and not force:
        existing = read_manifest(out)
        if existing.get("build") == params and existing.get("sources") == plan["sources"]:
            print(f"{out}: already built from these inputs; skipped (pass --force to rebuild)")
            return out
        raise CorpusmapError(
            f"{out} already holds an index built from other inputs or parameters; "
            "pass --force to replace it or choose another --out"
        )
    read_args = {
        "text_field": text_field,
        "id_field": id_field,
        "lines": lines,
        "on_error": on_error,
        "token_dtype": token_dtype,
        "eod_id": eod_id,
    }
    building = building_dir(out)
    t0 = time.perf_counter()
    try:
        _open_building(building, plan)
    except OSError as exc:
        raise CorpusmapError(
            f"{out}: cannot write an index there ({exc.strerror}: {exc.filename}); "
            "choose another --out"
        ) from exc
    tok = _prepare_tokenizer(tokenizer, building, iter_documents(srcs, ReadStats(), **read_args))
    width = width_for(tok.spec.vocab_size)
    phases: dict[str, float] = {}  # seconds of each stage, kept in the manifest
    if ray is not None:
        from corpusmap import ray_runtime
        from corpusmap.index.ray_build import write_shards_on_ray

        t_ray = time.perf_counter()
        with ray_runtime.session(ray) as rt:
            phases["ray_start"] = round(time.perf_counter() - t_ray, 3)
            cpus = ray_runtime.cluster_cpus(rt)
            sharding = resolve_sharding(building, shard_tokens, srcs, tok, read_args, cpus, True)
            records, stats = write_shards_on_ray(
                rt, srcs, read_args, tok, width, building, sharding["shard_tokens"], phases
            )
            if minhash:  # in the same session: a local Ray is started once per build
                _minhash(building, tok, width, records, workers, ray)
            t_ray = time.perf_counter()
        phases["ray_stop"] = round(time.perf_counter() - t_ray, 3)
    else:
        sharding = resolve_sharding(building, shard_tokens, srcs, tok, read_args, workers)
        done = _resume(building)
        stats = ReadStats()
        docs = iter_documents(srcs, stats, **read_args)
        skipped = sum(r["n_docs"] for r in done)
        if skipped:
            docs = itertools.islice(docs, skipped, None)
            print(f"{out}: resuming; {len(done)} finished shard(s) kept ({skipped} documents)")
        try:
            records = write_shards(
                docs, tok, width, building, sharding["shard_tokens"], workers, done, phases
            )
        except NoDocumentsError:
            raise NoDocumentsError(
                f"{named}: no documents ({stats.files} files read, {stats.empty_skipped} empty "
                f"and {stats.errors_skipped} bad records skipped); check the paths and "
                "--text-field / --lines"
            ) from None
        if minhash:
            _minhash(building, tok, width, records, workers, None)
    manifest = index_manifest(tok, width, records, building, params, plan, stats, t0)
    manifest["sharding"] = sharding
    manifest["build_phases"] = phases
    publish(building, out, manifest)
    return out
