"""``generate``: prompts in, a resumable Parquet store of reproducible rows out.

Flow: read the prompts -> resolve the model and hash it -> open (or resume) the
run of the store whose parameters match -> drop rows already written -> for each
chunk of ``part_rows`` rows: tokenize, generate with the backend (bucketed
batches), write one part. Rows of a part keep prompt order (prompt, then sample).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from corpusmap import __version__
from corpusmap.errors import CorpusmapError
from corpusmap.generation.model import (
    encode_prompts,
    load_model,
    load_tokenizer,
    resolve_dtype,
    resolve_model,
)
from corpusmap.generation.params import ENGINES, GenParams, Sampling, row_seed
from corpusmap.generation.prompt_check import prompts_conflict
from corpusmap.generation.prompts_file import PromptSet, PromptsInput, read_prompts
from corpusmap.generation.ray_generate import cluster, generate_on_ray
from corpusmap.generation.schema import ROW_SCHEMA, Request, build_table, gen_id
from corpusmap.generation.store import GenerationStore, open_run
from corpusmap.generation.transformers_backend import HFBackend
from corpusmap.generation.vllm_backend import VLLMBackend, require_vllm
from corpusmap.progress import progress_bar
from corpusmap.ray_runtime import one_session

Backend = HFBackend | VLLMBackend


def library_versions(engine: str) -> dict[str, str]:
    """Versions of what produced the rows, for the manifest."""
    names = ["corpusmap", "torch", "transformers", "pyarrow"]
    names += ["vllm"] if engine == "vllm" else []
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = f"{__version__} (source tree)" if name == "corpusmap" else "absent"
    return out


def make_backend(
    model: str | os.PathLike[str],
    engine: str,
    sampling: Sampling,
    batch_size: int,
    device: str | None,
    dtype: str | None,
    load: bool = True,
) -> tuple[Backend, Any, dict[str, str]]:
    """The backend, the tokenizer and the model facts a run records.

    ``load=False`` leaves a vLLM engine unbuilt until the backend first runs (a Ray
    driver, whose replicas build their own); the transformers model always loads.
    """
    if engine not in ENGINES:
        raise CorpusmapError(f"unknown engine {engine!r}; use one of {ENGINES}")
    source = resolve_model(model)
    backend: Backend
    if engine == "vllm":
        require_vllm()
        from corpusmap.generation.hashing import tokenizer_hash

        tokenizer = load_tokenizer(model)
        dt = resolve_dtype(dtype, "cuda")
        backend = VLLMBackend(source, tokenizer, sampling, dt, load=load)
        facts = {"model_hash": source.model_hash(), "tokenizer_hash": tokenizer_hash(tokenizer)}
        facts |= {"dtype": dt, "device": "cuda (vllm)"}
    else:
        loaded = load_model(model, device=device, dtype=dtype)
        tokenizer = loaded.tokenizer
        backend = HFBackend(loaded, sampling, batch_size)
        facts = {"model_hash": loaded.model_hash, "tokenizer_hash": loaded.tokenizer_hash}
        facts |= {"dtype": loaded.dtype, "device": loaded.device}
    facts["model"] = source.ref
    return backend, tokenizer, facts


@one_session
def generate(
    model: str | os.PathLike[str],
    prompts: PromptsInput,
    out: str | os.PathLike[str],
    *,
    max_new_tokens: int = 64,
    temperature: float = 0.0,
    top_p: float = 1.0,
    top_k: int = 0,
    num_samples: int = 1,
    batch_size: int = 16,
    seed: int = 0,
    engine: str = "hf",
    device: str | None = None,
    stop: Sequence[str] | None = None,
    chat_template: bool = False,
    prompt_field: str = "prompt",
    id_field: str = "id",
    new_run: bool = False,
    part_rows: int | None = None,
    dtype: str | None = None,
    ray: str | None = None,
) -> GenerationStore:
    """Generate ``num_samples`` outputs per prompt into the Parquet store ``out``.

    Rerunning the same call resumes: rows already in finished parts are skipped.
    Rerunning with other generation parameters is refused unless ``new_run``.

    Args:
        model: a model folder, a ``.gguf`` file, ``"smollm2"`` or a hub name.
        prompts: a JSONL/Parquet/.txt path, or a list of strings or dicts.
        out: the store folder (``G.parquet``), created if missing.
        max_new_tokens: most tokens per output.
        temperature: 0 for greedy decoding, else the sampling temperature.
        top_p: nucleus sampling mass (1.0 = off).
        top_k: keep the k most likely tokens (0 = off).
        num_samples: outputs per prompt (``sample_index`` 0..n-1).
        batch_size: rows decoded together (transformers engine).
        seed: base seed; each row's seed derives from it and the row's id.
        engine: ``"hf"`` (transformers) or ``"vllm"``.
        device: torch device; default CUDA when available, else CPU.
        stop: strings that end an output (cut before the string).
        chat_template: wrap each prompt as a user turn of the model's chat template.
        prompt_field: the prompt field/column of the input.
        id_field: the id field/column of the input (default: line or row number).
        new_run: allow a run with new parameters in an existing store (folder ``run=N``).
        part_rows: rows per Parquet part (default ``max(256, 4 * batch_size)``).
        dtype: override the model dtype (``bfloat16``/``float16``/``float32``).
        ray: ``"local"`` or a cluster address: parts are generated on the cluster, one
            model replica per GPU (or CPU slot; vLLM needs GPUs), rows exactly once
            (``ray_generate``).

    Returns:
        The store; ``store.summary`` says what this call wrote and skipped.
    """
    sampling = Sampling(
        int(max_new_tokens), float(temperature), float(top_p), int(top_k), tuple(stop or ())
    )
    sampling.check()
    for name, value in (("num_samples", num_samples), ("batch_size", batch_size)):
        if value < 1:
            raise CorpusmapError(f"{name} must be >= 1, got {value}")
    if engine not in ENGINES:
        raise CorpusmapError(f"unknown engine {engine!r}; use one of {ENGINES}")
    if engine == "vllm":
        require_vllm()  # fail before reading anything
    chunk = part_rows or max(256, 4 * batch_size)
    if chunk < 1:
        raise CorpusmapError(f"part_rows must be >= 1, got {part_rows}")
    with cluster(ray, engine) as rt:  # joined first: a cluster that cannot serve fails here
        pset = read_prompts(prompts, prompt_field, id_field)
        here = rt is None or engine != "vllm"  # on Ray, vLLM engines live in the replicas only
        backend, tokenizer, facts = make_backend(
            model, engine, sampling, batch_size, device, dtype, load=here
        )
        params = GenParams(
            model=facts["model"],
            model_hash=facts["model_hash"],
            tokenizer_hash=facts["tokenizer_hash"],
            engine=engine,
            dtype=facts["dtype"],
            seed=int(seed),
            chat_template=bool(chat_template),
            sampling=sampling,
        )
        session = {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": library_versions(engine),
            "device": facts["device"],
            "batch_size": batch_size,
            "part_rows": chunk,
            "prompts": pset.source,
        }
        writer = open_run(
            out,
            params,
            new_run,
            session,
            conflict=lambda store, run: prompts_conflict(store, run, pset),
        )
        started = time.perf_counter()
        tokens = written = 0
        try:
            writer.check_schema(_schema_with(pset.extras.schema))
            todo = [
                (p, s)
                for p in range(len(pset))
                for s in range(num_samples)
                if gen_id(pset.ids[p], s) not in writer.done
            ]
            shared = _shared(params)
            with progress_bar() as bar:
                rows_task = bar.add_task("generating", total=len(todo), unit="prompt")
                tok_task = bar.add_task("tokens", total=None, unit="tok")

                def on_batch(n_rows: int, n_tokens: int) -> None:
                    bar.advance(rows_task, n_rows)
                    bar.advance(tok_task, n_tokens)

                if rt is not None and todo:
                    args = (model, engine, sampling, batch_size, device, dtype)
                    counted: list[int] = []

                    def on_part(n_rows: int, n_tokens: int) -> None:
                        counted.append(n_tokens)
                        on_batch(n_rows, n_tokens)

                    generate_on_ray(rt, writer, pset, todo, chunk, args, params, shared, on_part)
                    written, tokens = len(todo), sum(counted)
                local_todo = todo if rt is None else []
                for start in range(0, len(local_todo), chunk):
                    items = local_todo[start : start + chunk]
                    table = _generate_part(
                        pset, items, tokenizer, params, backend, shared, on_batch
                    )
                    writer.write_part(table)
                    written += table.num_rows
                    tokens += sum(table.column("n_tokens").to_pylist())
        finally:
            writer.close()
        seconds = time.perf_counter() - started
        store = writer.store
        store.summary = {
            "store": str(store.path),
            "run": writer.run,
            "rows_written": written,
            "rows_skipped": len(pset) * num_samples - len(todo),
            "tokens": tokens,
            "seconds": round(seconds, 3),
            "tokens_per_s": round(tokens / seconds, 1) if seconds > 0 else 0.0,
        }
        return store


def _schema_with(extras: pa.Schema) -> pa.Schema:
    return pa.schema(list(ROW_SCHEMA) + list(extras))


def _shared(params: GenParams) -> dict[str, Any]:
    s = params.sampling
    return {
        "temperature": s.temperature,
        "top_p": s.top_p,
        "top_k": s.top_k,
        "max_new_tokens": s.max_new_tokens,
        "model": params.model,
        "model_hash": params.model_hash,
        "engine": params.engine,
        "params_id": params.fingerprint(),
    }


def _generate_part(
    pset: PromptSet,
    items: list[tuple[int, int]],
    tokenizer: Any,
    params: GenParams,
    backend: Backend,
    shared: dict[str, Any],
    on_batch: Any,
) -> pa.Table:
    """Generate the rows ``items`` (prompt index, sample index) as one Arrow table."""
    unique = sorted({p for p, _ in items})
    encoded = encode_prompts(tokenizer, [pset.texts[p] for p in unique], params.chat_template)
    ids_of = dict(zip(unique, encoded, strict=True))
    requests = [Request(ids_of[p], row_seed(params.seed, pset.ids[p], s)) for p, s in items]
    completions = backend.run(requests, on_batch)
    rows = [
        {"prompt_id": pset.ids[p], "sample_index": s, "prompt": pset.texts[p]} for p, s in items
    ]
    extras = pset.extras.take([p for p, _ in items])
    return build_table(rows, completions, requests, extras, shared)
