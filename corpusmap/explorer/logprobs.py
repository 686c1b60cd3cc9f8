"""Per-token log-probabilities of a generation, placed on its output text.

Results tables keep scalar columns only, so the log-probabilities come from
where they were recorded: the generation row itself when it carries
``output_token_ids`` and ``token_logprobs`` (a dump that kept them), else the
classify input named in the results manifest when it is a Parquet file or a
corpusmap generation store (read with ``pyarrow.dataset``, filtered to the one
``gen_id``; names starting with ``.`` or ``_`` — parts being written — are
skipped). The model tokens are placed on the output by decoding growing
prefixes with the model's tokenizer (``resolve_tokenizer(model)``: offline
only, remembered per model; when it cannot be loaded there is no hover, not an
error).

What it leaves out: anything but the chosen token's log-probability (no
alternatives: the store records only the sampled token's).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from corpusmap.explorer.spans import token_offsets
from corpusmap.explorer.state import Explorer

_TOKENIZERS: dict[str, Any] = {}
_LOCK = threading.Lock()
COLUMNS = ["gen_id", "output_token_ids", "token_logprobs", "model"]


def _tokenizer(model: str) -> Any:
    with _LOCK:
        if model not in _TOKENIZERS:
            try:
                from corpusmap.tokenizer import resolve_tokenizer

                _TOKENIZERS[model] = resolve_tokenizer(model)
            except Exception:  # offline, unknown name, missing extra: no hover, no error
                _TOKENIZERS[model] = None
        return _TOKENIZERS[model]


def _from_input(ex: Explorer, name: str, gen_id: str) -> dict[str, Any] | None:
    """The generation's row in the classify input, if that is Parquet with log-probs."""
    source = Path(str(ex.manifest(name).get("plan", {}).get("input", "")))
    if source.is_dir():
        files = [str(p) for p in sorted(source.rglob("*.parquet")) if not p.name.startswith(".")]
    elif source.suffix == ".parquet" and source.is_file():
        files = [str(source)]
    else:
        return None
    if not files:
        return None
    import pyarrow.dataset as ds

    try:
        data = ds.dataset(files, format="parquet")
        if not {"gen_id", "output_token_ids", "token_logprobs"} <= set(data.schema.names):
            return None
        cols = [c for c in COLUMNS if c in data.schema.names]
        ids = {gen_id, gen_id.split(":", 1)[1] if gen_id.startswith("r") else gen_id}
        table = data.to_table(columns=cols, filter=ds.field("gen_id").isin(list(ids)))
    except (OSError, ValueError):
        return None
    return table.slice(0, 1).to_pylist()[0] if table.num_rows else None


def token_logprobs(
    ex: Explorer, name: str, row: dict[str, Any]
) -> list[tuple[int, int, float]] | None:
    """(char begin, char end, log p) of each model token of the output, or None."""
    rec: dict[str, Any] | None = row
    if not (row.get("output_token_ids") and row.get("token_logprobs")):
        rec = _from_input(ex, name, str(row.get("gen_id")))
    if not rec or not rec.get("token_logprobs") or not rec.get("output_token_ids"):
        return None
    tok = _tokenizer(str(rec.get("model") or row.get("model") or ""))
    if tok is None:
        return None
    ids = list(rec["output_token_ids"])
    lps = list(rec["token_logprobs"])
    text = row.get("output") or ""
    spans = token_offsets("hf", text, decode=tok.decode, ids=ids)
    return [(a, b, float(lp)) for (a, b), lp in zip(spans, lps, strict=False) if lp is not None]


def warm(ex: Explorer, name: str) -> None:
    """Load the model tokenizer of a folder's classify input ahead of the first page."""
    source = Path(str(ex.manifest(name).get("plan", {}).get("input", "")))
    files = sorted(source.rglob("*.parquet")) if source.is_dir() else [source]
    files = [f for f in files if f.suffix == ".parquet" and not f.name.startswith(".")]
    if not files:
        return
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(files[0])
        if "token_logprobs" in pf.schema_arrow.names and "model" in pf.schema_arrow.names:
            model = pf.read_row_group(0, columns=["model"]).column(0)[0].as_py()
            _tokenizer(str(model or ""))
    except (OSError, ValueError, IndexError):
        return
