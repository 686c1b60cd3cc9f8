"""What ``build_index`` reads: sources as documents, their fingerprint, units and size.

``iter_documents`` streams every source in order (files and folders through
``corpusmap.sources``, ``embedded[:kjv|wiki]``, or documents already in memory);
``fingerprint`` records them so a resumed build checks it reads the same input.
For a build spread over Ray, ``input_units`` cuts the same stream into units (a
file, a ``save_to_disk`` folder, the embedded corpus, the in-memory list) that a
task can read alone, in the same order. ``estimate_tokens`` sizes a corpus before
it is read, for the default sharding rule (``sharding.default_shard_tokens``).

What it leaves out: splitting one file between tasks (a unit is read whole by
whoever reads any of its documents, skipping the documents before its range).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import pyarrow as pa

from corpusmap import __version__
from corpusmap.sources.document import Document, ReadStats
from corpusmap.tokenizer import Tokenizer

Sources: TypeAlias = str | os.PathLike | Sequence[str | os.PathLike] | pa.Table | Iterable[Document]


def in_memory(sources: Sources, text_field: str, id_field: str | None) -> list[Document] | None:
    """The documents of an Arrow table or an iterable of documents; None for paths."""
    from corpusmap.sources.memory import documents_from_table

    if isinstance(sources, pa.Table):
        return documents_from_table(sources, text_field, id_field)
    if isinstance(sources, str | os.PathLike):
        return None
    items = sources if isinstance(sources, list | tuple) else list(sources)
    if items and all(isinstance(d, Document) for d in items):
        return list(items)  # type: ignore[arg-type]
    return None


def iter_documents(
    sources: Sequence[str] | list[Document], stats: ReadStats, **read_args: Any
) -> Iterator[Document]:
    """Documents of every source in order; ``embedded[:kjv|wiki]`` names the built-in corpus."""
    from corpusmap.embedded import embedded_documents

    if sources and isinstance(sources[0], Document):
        from corpusmap.sources.memory import iter_memory

        yield from iter_memory(sources, stats)  # type: ignore[arg-type]
        return
    for src in sources:
        assert isinstance(src, str)
        if src == "embedded" or src.startswith("embedded:"):
            yield from embedded_documents(src.partition(":")[2] or "all", stats)
        else:
            from corpusmap.sources import read_documents

            yield from read_documents(src, stats=stats, **read_args)


def inputs_fingerprint(sources: Sequence[str] | list[Document]) -> list[dict[str, Any]]:
    if sources and isinstance(sources[0], Document):
        from corpusmap.sources.memory import fingerprint

        return [fingerprint(sources)]  # type: ignore[arg-type]
    out: list[dict[str, Any]] = []
    for src in sources:
        assert isinstance(src, str)
        if src == "embedded" or src.startswith("embedded:"):
            out.append({"path": src, "version": __version__})
        else:
            from corpusmap.sources import source_fingerprint

            out.extend(source_fingerprint(src))
    return out


@dataclass(frozen=True)
class InputUnit:
    """One piece of the document stream a Ray task reads alone (see module docstring).

    ``kind`` is ``file`` (``unit`` is a ``sources.discover.Unit``), ``embedded``
    (``name`` says which) or ``memory`` (``docs`` holds them).
    """

    kind: str
    name: str
    unit: Any = None
    docs: list[Document] | None = None


_MEMORY_UNIT_DOCS = 16_384


def input_units(sources: Sequence[str] | list[Document], **read_args: Any) -> list[InputUnit]:
    """The units of ``iter_documents(sources)``, in the same order (inputs checked here)."""
    if sources and isinstance(sources[0], Document):  # in pieces: a task gets only its own
        docs: list[Document] = list(sources)  # type: ignore[arg-type]
        step = _MEMORY_UNIT_DOCS
        return [InputUnit("memory", f"<memory:{i}>", docs=docs[i : i + step])
                for i in range(0, len(docs), step)]  # fmt: skip
    from corpusmap.sources import plan_units, read_documents

    units: list[InputUnit] = []
    for src in sources:
        assert isinstance(src, str)
        if src == "embedded" or src.startswith("embedded:"):
            units.append(InputUnit("embedded", src.partition(":")[2] or "all"))
            continue
        read_documents(src, stats=ReadStats(), **read_args)  # the up-front checks, nothing read
        units += [InputUnit("file", str(u.path), unit=u) for u in plan_units(src)]
    return units


def read_input_unit(u: InputUnit, stats: ReadStats, **read_args: Any) -> Iterator[Document]:
    """The documents of one unit, counting them in ``stats`` as ``iter_documents`` does."""
    if u.kind == "memory":
        from corpusmap.sources.memory import iter_memory

        yield from iter_memory(u.docs or [], stats)
        return
    if u.kind == "embedded":
        from corpusmap.embedded import embedded_documents

        yield from embedded_documents(u.name, stats)
        return
    from corpusmap.sources import ReadOptions, read_unit

    opts = ReadOptions(stats=stats, **read_args)
    for doc in read_unit(u.unit, opts):
        stats.documents += 1
        yield doc


def _doc_bytes(d: Document) -> int:
    if d.tokens is not None:
        return int(d.tokens.nbytes)
    return len((d.text or "").encode("utf-8"))


_SAMPLE_DOCS = 2048
_SAMPLE_BYTES = 1 << 22


def estimate_tokens(
    sources: Sequence[str] | list[Document], tok: Tokenizer, **read_args: Any
) -> int:
    """Tokens the corpus will hold, estimated before reading it (for default sharding).

    Input bytes on disk (the fingerprint's file sizes; for documents in memory, their
    text bytes) times the tokens per input byte of the first documents (up to 2,048
    or 4 MiB of text); each document also counts one separator. Pre-tokenized inputs
    count their ids. Compressed or markup-heavy inputs are over- or under-estimated:
    the rule only needs the size within a factor of about 1.2 to balance the cores.
    """
    stats = ReadStats()
    sample = list(itertools.islice(iter_documents(sources, stats, **read_args), _SAMPLE_DOCS))
    text_bytes = tokens = 0
    for d in sample:
        if d.tokens is not None:
            text_bytes += int(d.tokens.size) * d.tokens.dtype.itemsize
            tokens += int(d.tokens.size) + 1
        elif d.text is not None:
            raw = len(d.text.encode("utf-8"))
            text_bytes += raw
            tokens += int(tok.encode(d.text).size) + 1
        if text_bytes >= _SAMPLE_BYTES:
            break
    if not text_bytes:
        return 0
    if sources and isinstance(sources[0], Document):
        docs: list[Document] = list(sources)  # type: ignore[arg-type]
        total = sum(_doc_bytes(d) for d in docs)
    else:
        total = sum(int(f.get("size", 0)) for f in inputs_fingerprint(sources))
        if not total:  # the embedded corpus has no file sizes: count its text
            stream = iter_documents(sources, ReadStats(), **read_args)
            total = sum(len((d.text or "").encode("utf-8")) for d in stream)
    return int(total * tokens / text_bytes)
