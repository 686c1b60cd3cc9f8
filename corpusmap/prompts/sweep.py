"""Robustness sweeps: one prompts table holding every (noise kind, rate) of each clean prompt.

``sweep(table, kinds, rates)`` expands a prompts table: each clean row is kept
once (noise null, rate 0, when 0 is among the rates) and gains one perturbed
copy per kind and non-zero rate. Every row records ``noise``, ``noise_rate``,
``original_prompt`` (the clean text) and ``original_prompt_id`` (the clean
row's id), so ``classify`` carries them into the results and the
``noise_sweep(L, n)`` SQL macro draws extraction, copy rate and novelty as
curves over the rate, one line per kind. The clean row at rate 0 is shared by
every kind's curve: a greedy model gives it one output, generated once.

Perturbed ids are ``<clean id>~<kind>@<rate>`` (e.g. ``p000003~case@0.05``).
What it leaves out: the perturbations themselves (``noise.perturb``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from corpusmap.errors import CorpusmapError
from corpusmap.prompts.noise import NOISE_KINDS, perturb

SWEEP_COLUMNS = ("noise", "noise_rate", "original_prompt", "original_prompt_id")


def parse_list(value: Any, cast: Any = str) -> list[Any]:
    """``"a,b"``, ``["a", "b"]`` or one value as a list (``None`` and ``""`` give ``[]``)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    else:
        items = list(value) if isinstance(value, Sequence) else [value]
    try:
        return [cast(str(v).strip()) if isinstance(v, str) else cast(v) for v in items]
    except ValueError as exc:
        raise CorpusmapError(f"cannot read {value!r} as a comma-separated list: {exc}") from exc


def check(kinds: list[str], rates: list[float]) -> None:
    """Refuse unknown kinds and rates outside 0..1, naming the flag."""
    for kind in kinds:
        if kind not in NOISE_KINDS:
            raise CorpusmapError(f"unknown --noise {kind!r}; choose from {', '.join(NOISE_KINDS)}")
    for rate in rates:
        if not 0.0 <= rate <= 1.0:
            raise CorpusmapError(f"--noise-rate values must be within 0..1, got {rate}")
    if kinds and not rates:
        raise CorpusmapError("--noise needs at least one --noise-rate")


def sweep(table: pa.Table, kinds: Sequence[str], rates: Sequence[float], seed: int = 0) -> pa.Table:
    """The rows of ``table`` expanded over noise ``kinds`` x ``rates`` (see the module doc).

    Rate 0 keeps the clean row (once, not once per kind); without 0 among the
    rates only perturbed rows are returned. Row k's perturbation is seeded by
    ``seed + k``, so a kind's rates perturb the same prompt reproducibly.
    """
    kinds, rates = list(kinds), sorted(set(rates))
    check(kinds, rates)
    rows: list[dict[str, Any]] = []
    for k, row in enumerate(table.to_pylist()):
        clean = dict(row)
        clean["original_prompt"] = row.get("original_prompt") or row["prompt"]
        clean["original_prompt_id"] = row["prompt_id"]
        if 0.0 in rates or not kinds:
            rows.append({**clean, "noise": None, "noise_rate": 0.0 if kinds else None})
        for kind in kinds:
            for rate in (r for r in rates if r > 0):
                rows.append(
                    {
                        **clean,
                        "prompt_id": f"{row['prompt_id']}~{kind}@{rate:g}",
                        "prompt": perturb(clean["original_prompt"], kind, rate, seed + k),
                        "noise": kind,
                        "noise_rate": rate,
                    }
                )
    schema = table.schema
    types = (pa.string(), pa.float64(), pa.string(), pa.string())
    for name, typ in zip(SWEEP_COLUMNS, types, strict=True):
        if name in schema.names:
            schema = schema.set(schema.get_field_index(name), pa.field(name, typ))
        else:
            schema = schema.append(pa.field(name, typ))
    return pa.Table.from_pylist(rows, schema=schema.remove_metadata()).replace_schema_metadata(
        table.schema.metadata
    )
