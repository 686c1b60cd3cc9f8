"""Output features: what a behaviour on the prompt is asked to explain (``--feature``).

A feature is one discrete value per generation. Accepted specs:

* ``behavior`` (default): the behaviour itself, evaluated on the output (does
  the model do B when the prompt does B?);
* ``copied>=L``: the output holds a corpus span of at least L tokens that is not
  in its prompt (``longest_nonprompt_match >= L`` of the ``generations`` results);
* ``extracted``: the output reproduced the true continuation (corpus prompts);
* ``COLUMN`` or ``COLUMN OP NUMBER`` (OP one of ``>= > <= < == !=``): any column
  of the ``generations`` results or of the input dump, its values taken as
  categories, or the comparison as a bool.

Generations whose feature is null (e.g. ``extracted`` for non-corpus prompts)
are left out of the mutual information.

What it leaves out: continuous features are not binned automatically; give a
threshold with OP.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from corpusmap.errors import CorpusmapError

BEHAVIOR = "behavior"
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}  # fmt: skip
_SPEC = re.compile(r"^\s*(\w+)\s*(?:(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)\s*)?$")


def _results_column(out: Path, column: str, table: pa.Table) -> pa.Array | None:
    """``column`` aligned to ``table``'s rows, from the results or the input table."""
    folder = out / "generations"
    files = sorted(f for f in folder.glob("*.parquet") if not f.name.startswith("."))
    if files:
        res = ds.dataset(files, format="parquet")
        if column in res.schema.names:
            got = res.to_table(columns=["gen_id", column])
            at = pc.index_in(table.column("gen_id"), value_set=got.column("gen_id"))
            return got.column(column).combine_chunks().take(at)
    if column in table.column_names:
        return table.column(column).combine_chunks()
    return None


def output_feature(
    spec: str, out: Path, table: pa.Table
) -> tuple[str, np.ndarray | None, np.ndarray]:
    """Parse ``spec`` and evaluate it per generation.

    Returns:
        (name, values, valid): values is None for ``behavior`` (evaluated per
        behaviour), else an object array; valid marks generations with a value.
    """
    n = table.num_rows
    if spec == BEHAVIOR:
        return BEHAVIOR, None, np.ones(n, dtype=bool)
    m = _SPEC.match(spec.replace("copied", "longest_nonprompt_match", 1)
                    if spec.startswith("copied") else spec)  # fmt: skip
    if m is None:
        raise CorpusmapError(
            f"--feature {spec!r} not understood: use 'behavior', 'copied>=L', 'extracted', "
            "a column name, or COLUMN OP NUMBER (e.g. 'n_tokens>=100')"
        )
    column, op, value = m.groups()
    arr = _results_column(out, column, table)
    if arr is None:
        raise CorpusmapError(
            f"--feature {spec!r}: no column {column!r} in the generations results or the "
            "input (run classify with the match stage first, or name an existing column)"
        )
    values = np.asarray(arr.to_pylist(), dtype=object)
    valid = np.array([v is not None for v in values], dtype=bool)
    if op is not None:
        num = float(value)
        values = np.array([bool(_OPS[op](v, num)) if v is not None else None for v in values],
                          dtype=object)  # fmt: skip
    return spec, values, valid
