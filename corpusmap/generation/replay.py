"""``replay``: regenerate a sample of stored rows and check they come out the same.

For each sampled row, with its run's parameters from the manifest:

* the model's and tokenizer's hashes must equal the recorded ones (else nothing
  is regenerated: the report says which hash changed);
* the prompt must still encode to ``prompt_token_ids`` and the row's ``seed``
  must be the one derived from (base seed, prompt id, sample index);
* regenerating from ``prompt_token_ids`` with the row seed must give the same
  ``output_token_ids``, the same ``output`` text and ``finish_reason``, and
  log-probs within ``atol`` of ``token_logprobs``.

Any difference is reported per row, so an edited row (a token id, a log-prob,
an output text) is found when it is in the sample. Token ids are compared
exactly; log-probs need a tolerance because a different batch composition
moves float rounding (see ``decode.py``). Default ``atol``: 1e-3 for float32
runs, 0.1 for bfloat16/float16 runs, where a near-tie can also flip a token.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

import pyarrow.parquet as pq

from corpusmap.errors import CorpusmapError
from corpusmap.generation.api import make_backend
from corpusmap.generation.model import encode_prompts
from corpusmap.generation.params import GenParams, row_seed
from corpusmap.generation.schema import Request
from corpusmap.generation.store import GenerationStore

COLUMNS = [
    "gen_id", "prompt_id", "sample_index", "prompt", "output", "prompt_token_ids",
    "output_token_ids", "token_logprobs", "finish_reason", "seed",
]  # fmt: skip


def default_atol(dtype: str) -> float:
    return 1e-3 if dtype == "float32" else 0.1


def replay(
    generations: str | os.PathLike[str],
    sample: int | None = 20,
    seed: int = 0,
    atol: float | None = None,
    *,
    model: str | None = None,
    device: str | None = None,
    batch_size: int = 16,
) -> dict[str, Any]:
    """Regenerate ``sample`` random rows of a store and compare (see the module docstring).

    Args:
        generations: the store folder written by ``generate``.
        sample: rows to check, drawn at random over all runs; None or <= 0 checks all.
        seed: seed of the random choice of rows.
        atol: log-prob tolerance; default by the run's dtype (see the module docstring).
        model: load the model from here instead of the manifest's path (it must hash equal).
        device: torch device for the transformers engine.
        batch_size: rows regenerated together.

    Returns:
        ``{"ok", "checked", "matched", "mismatched", "mismatches": [...], "atol", ...}``;
        each mismatch has ``gen_id``, ``run`` and a list of ``problems``.
    """
    started = time.perf_counter()
    store = GenerationStore(generations)
    rows: list[tuple[int, dict[str, Any]]] = []
    for run in range(1, len(store.runs) + 1):
        for part in store.part_files(run):
            rows += [(run, r) for r in pq.read_table(part, columns=COLUMNS).to_pylist()]
    if not rows:
        raise CorpusmapError(f"{store.path} holds no rows to replay")
    rows.sort(key=lambda x: (x[0], x[1]["gen_id"]))
    if sample is not None and 0 < sample < len(rows):
        rows = random.Random(seed).sample(rows, sample)
    report: dict[str, Any] = {"store": str(store.path), "checked": len(rows), "mismatches": []}
    tolerances = set()
    for run in sorted({r for r, _ in rows}):
        params = store.run_params(run)
        tol = atol if atol is not None else default_atol(params.dtype)
        tolerances.add(tol)
        batch = [row for r, row in rows if r == run]
        report["mismatches"] += _replay_run(run, params, batch, tol, model, device, batch_size)
    bad = len(report["mismatches"])
    report |= {
        "matched": len(rows) - bad,
        "mismatched": bad,
        "ok": bad == 0,
        "atol": max(tolerances),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return report


def _replay_run(
    run: int,
    params: GenParams,
    rows: list[dict[str, Any]],
    atol: float,
    model: str | None,
    device: str | None,
    batch_size: int,
) -> list[dict[str, Any]]:
    """Mismatch records for the sampled rows of one run."""
    backend, tokenizer, facts = make_backend(
        model or params.model, params.engine, params.sampling, batch_size, device, params.dtype
    )
    changed = [k for k in ("model_hash", "tokenizer_hash") if facts[k] != getattr(params, k)]
    if changed:
        problem = f"{' and '.join(changed)} differ from the manifest: not the same model"
        return [{"gen_id": r["gen_id"], "run": run, "problems": [problem]} for r in rows]
    encoded = encode_prompts(tokenizer, [r["prompt"] for r in rows], params.chat_template)
    requests = [Request(list(r["prompt_token_ids"]), int(r["seed"])) for r in rows]
    completions = backend.run(requests)
    out = []
    for row, enc, comp in zip(rows, encoded, completions, strict=True):
        problems = []
        if enc != list(row["prompt_token_ids"]):
            problems.append("prompt no longer encodes to prompt_token_ids")
        if int(row["seed"]) != row_seed(params.seed, row["prompt_id"], row["sample_index"]):
            problems.append("seed is not the one derived from the run seed and the row id")
        stored = list(row["output_token_ids"])
        if comp.token_ids != stored:
            first = next(
                (i for i, (a, b) in enumerate(zip(stored, comp.token_ids, strict=False)) if a != b),
                min(len(stored), len(comp.token_ids)),
            )
            problems.append(
                f"output_token_ids differ from token {first} "
                f"(stored {len(stored)} tokens, replayed {len(comp.token_ids)})"
            )
        else:
            logprobs = list(row["token_logprobs"])
            if len(logprobs) != len(stored):
                problems.append("token_logprobs and output_token_ids differ in length")
            else:
                diff = max(
                    (abs(a - b) for a, b in zip(logprobs, comp.logprobs, strict=True)), default=0.0
                )
                if diff > atol:
                    problems.append(f"token_logprobs differ by up to {diff:.3g} (atol {atol:g})")
        if comp.text != row["output"]:
            problems.append("output text differs from the decoded tokens")
        if comp.finish_reason != row["finish_reason"]:
            problems.append(f"finish_reason {row['finish_reason']!r} != {comp.finish_reason!r}")
        if problems:
            out.append({"gen_id": row["gen_id"], "run": run, "problems": problems})
    return out
