"""Does a run of a store belong to these prompts? (Refuse mixing two prompt sets in one run.)

A run is keyed by its generation parameters, not by its prompts, so that it can be
resumed with more prompts (a superset) or another batch size. But a rerun with
*another* prompts file and the same parameters used to add its rows to the same
run, silently: with row-number ids (``0``, ``1``...) its rows were even skipped as
"done" under the first file's texts. Here the rows already written are compared
with the new prompt set, by id: a prompt whose text changed, or a prompt set
sharing no id with the run, means other prompts.

What it leaves out: extra columns (``continuation``, ``doc_id``...) are not
compared, only the prompt text that the generation depends on.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from corpusmap.generation.prompts_file import PromptSet
from corpusmap.generation.store import GenerationStore


def prompts_conflict(store: GenerationStore, run: int, pset: PromptSet) -> str | None:
    """Why run ``run`` of ``store`` was made from other prompts than ``pset``; None if it was not.

    Parts that cannot be read are left to the run writer, which names them.
    """
    texts = dict(zip(pset.ids, pset.texts, strict=True))
    shared = 0
    for f in store.part_files(run):
        try:
            t = pq.read_table(f, columns=["prompt_id", "prompt"])
        except (OSError, pa.ArrowInvalid, KeyError):
            return None
        ids, prompts = t.column("prompt_id").to_pylist(), t.column("prompt").to_pylist()
        for pid, text in zip(ids, prompts, strict=True):
            if pid not in texts:
                continue
            shared += 1
            if texts[pid] != text:
                return f"prompt {pid!r} was {text[:40]!r} there, {texts[pid][:40]!r} here"
    if store.part_files(run) and not shared:
        return "no prompt id of its rows is among these prompts"
    return None
