"""Which inputs a build reads: each file once, never a folder corpusmap wrote.

``build_index`` takes the sources as the user typed them; :func:`unique_inputs`
turns them into the files (and dataset folders) to read, in order, so that a file
named twice, or named beside the folder holding it, is indexed once, and an index,
results folder or store inside a corpus folder (``--out`` put there, say) is never
read back as corpus. What it drops it says, on stdout.

Left out: documents with equal text in different files are both kept (that is
deduplication, which ``index dups`` reports).
"""

from __future__ import annotations

import os


def describe(sources: list[str], most: int = 3) -> str:
    """The sources for a message: the first few, then how many more."""
    shown = ", ".join(sources[:most])
    return shown + (f" and {len(sources) - most} more" if len(sources) > most else "")


def _is_embedded(src: str) -> bool:
    return src == "embedded" or src.startswith("embedded:")


def unique_inputs(sources: list[str]) -> list[str]:
    """The sources as the files (and dataset folders) they name, each once, in order.

    A file named twice, or named and also inside a named folder, is read once; a
    folder corpusmap wrote (an index, results, a store; e.g. ``--out`` inside the
    corpus folder) is never read. Each is said on stdout, so nothing is dropped
    without a word.
    """
    from corpusmap.sources.discover import plan_units

    notes: list[str] = []
    paths = [s for s in sources if not _is_embedded(s)]
    if paths:
        plan_units(paths, notes)  # raises on a missing source or one of our outputs
    out: list[str] = []
    seen: set[str] = set()
    for src in sources:
        if _is_embedded(src):
            if src in seen:
                notes.append(f"{src}: named twice; read once")
                continue
            seen.add(src)
            out.append(src)
            continue
        for unit in plan_units([src]):
            key = os.path.abspath(unit.path)
            if key not in seen:
                seen.add(key)
                out.append(str(unit.path))
    for note in notes:
        print(f"note: {note}")
    return out
