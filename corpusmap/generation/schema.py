"""The row schema of a generation store and the records backends exchange.

A backend receives :class:`Request` s (prompt token ids + a row seed) and returns
one :class:`Completion` per request, in the same order. :func:`build_table` turns
completions plus their prompts into an Arrow table with :data:`ROW_SCHEMA`
followed by the prompt file's extra columns. The columns are described in the
package docstring (``corpusmap/generate/__init__.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

ROW_SCHEMA = pa.schema(
    [
        ("gen_id", pa.string()),
        ("prompt_id", pa.string()),
        ("sample_index", pa.int32()),
        ("prompt", pa.string()),
        ("output", pa.string()),
        ("prompt_token_ids", pa.list_(pa.int32())),
        ("output_token_ids", pa.list_(pa.int32())),
        ("token_logprobs", pa.list_(pa.float32())),
        ("n_tokens", pa.int32()),
        ("finish_reason", pa.string()),
        ("seed", pa.int64()),
        ("temperature", pa.float64()),
        ("top_p", pa.float64()),
        ("top_k", pa.int32()),
        ("max_new_tokens", pa.int32()),
        ("model", pa.string()),
        ("model_hash", pa.string()),
        ("engine", pa.string()),
        ("params_id", pa.string()),
        ("created_at", pa.timestamp("ms", tz="UTC")),
        ("gen_seconds", pa.float64()),
    ]
)

# Prompt columns may not reuse these names (they would shadow generation columns).
RESERVED = frozenset(ROW_SCHEMA.names)


def gen_id(prompt_id: str, sample_index: int) -> str:
    """The stable id of a row: ``"{prompt_id}:{sample_index}"``."""
    return f"{prompt_id}:{sample_index}"


@dataclass(slots=True)
class Request:
    """One row to generate: the prompt's token ids and the row's own seed."""

    prompt_ids: list[int]
    seed: int


@dataclass(slots=True)
class Completion:
    """What a backend returns for one request.

    Attributes:
        token_ids: generated ids, including the eos id when the model emitted one.
        logprobs: log-probability of each generated id (see ``params.LOGPROB_KIND``).
        finish_reason: ``"stop"`` (eos or stop string) or ``"length"``.
        text: decoded output (special tokens skipped), cut before the first stop string.
        seconds: wall time of the batch that made it, divided by the batch's row count.
    """

    token_ids: list[int]
    logprobs: list[float]
    finish_reason: str
    text: str
    seconds: float = 0.0


def build_table(
    rows: list[dict[str, Any]],
    completions: list[Completion],
    requests: list[Request],
    extras: pa.Table,
    shared: dict[str, Any],
) -> pa.Table:
    """Assemble one part.

    Args:
        rows: per row ``prompt_id``, ``sample_index``, ``prompt``.
        completions: per row, what the backend produced.
        requests: per row, what was asked (prompt ids, seed).
        extras: the prompts' extra columns, already taken in row order.
        shared: values equal for every row of the run (sampling params, model...).
    """
    n = len(rows)
    now = datetime.now(UTC)
    cols: dict[str, list[Any]] = {
        "gen_id": [gen_id(r["prompt_id"], r["sample_index"]) for r in rows],
        "prompt_id": [r["prompt_id"] for r in rows],
        "sample_index": [r["sample_index"] for r in rows],
        "prompt": [r["prompt"] for r in rows],
        "output": [c.text for c in completions],
        "prompt_token_ids": [q.prompt_ids for q in requests],
        "output_token_ids": [c.token_ids for c in completions],
        "token_logprobs": [c.logprobs for c in completions],
        "n_tokens": [len(c.token_ids) for c in completions],
        "finish_reason": [c.finish_reason for c in completions],
        "seed": [q.seed for q in requests],
        "created_at": [now] * n,
        "gen_seconds": [c.seconds for c in completions],
    }
    for name in ROW_SCHEMA.names:
        if name not in cols:
            cols[name] = [shared[name]] * n
    table = pa.Table.from_pydict({k: cols[k] for k in ROW_SCHEMA.names}, schema=ROW_SCHEMA)
    for name, column in zip(extras.column_names, extras.columns, strict=True):
        table = table.append_column(extras.schema.field(name), column)
    return table
