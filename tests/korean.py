"""What a Korean user would still read in English: the English of the package's
catalogue, looked for in a page's visible text (its words, and the attributes a
person reads: buttons, placeholders, titles, and the sentences the scripts show).

Shared by tests/test_korean_pages.py (the pages as Django renders them) and
tests/e2e/test_korean_browser.py (as Chromium shows them).
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from pathlib import Path

import polib

import pgvector_admin

CATALOGUE = Path(pgvector_admin.__file__).parent / "locale" / "ko" / "LC_MESSAGES" / "django.po"

# Names a translation keeps as they are.
NAMES = {
    "SQL", "PostgreSQL", "HNSW", "IVFFlat", "CSV", "TSV", "JSON", "PCA", "RRF", "NaN",
    "UTF", "MB", "KB", "ms", "TABLESAMPLE", "VACUUM", "ANALYZE", "CONCURRENTLY", "WHERE",
    "ORDER", "BY", "LIMIT", "DESC", "SELECT", "INSERT", "UPDATE", "DELETE", "FILE",
    "EXPLAIN", "BUFFERS", "SET", "LOCAL", "Expl", "Sel", "WordLlama", "pgvector", "id",
}  # fmt: skip
# Anything code-like in a message: a setting, an operator, a number, a placeholder.
_CODE = re.compile(r"%\(\w+\)s|%%|\{\w+\}|\S*[_.()=@<>/\[\]{}0-9±…:;,“”\"]\S*")
_TAG = re.compile(r"<code>.*?</code>|<[^>]+>")
_APOSTROPHES = "'\u2019"
_WORDS = re.compile(
    rf"[A-Za-z]+(?:[{_APOSTROPHES}][a-z]+)?(?: [A-Za-z]+(?:[{_APOSTROPHES}][a-z]+)?)+"
)


@functools.cache
def english_fragments() -> tuple[list[str], list[str]]:
    """The catalogue's English, as the runs of two words or more it holds (``phrases``)
    and the messages of one word (``words``), names left out."""
    phrases: set[str] = set()
    words: set[str] = set()
    for entry in polib.pofile(str(CATALOGUE)):
        for english in filter(None, (entry.msgid, entry.msgid_plural)):
            text = _CODE.sub("|", _TAG.sub("|", english))
            if re.fullmatch(r"[A-Za-z]{4,}", english):
                words.add(english)
                continue
            for piece in text.split("|"):
                for run in _WORDS.findall(piece):
                    kept = [word for word in run.split() if word not in NAMES]
                    if len(kept) >= 2:
                        phrases.add(run)
    return sorted(phrases), sorted(words - NAMES)


class _VisibleText(HTMLParser):
    """The text a person reads: the page's words outside code, scripts and styles, and
    the attributes shown as words."""

    HIDDEN = {"script", "style", "code", "pre", "textarea", "template"}
    SHOWN_ATTRIBUTES = {"value", "placeholder", "title", "aria-label", "alt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        kind = dict(attrs).get("type")
        for name, value in attrs:
            if not value:
                continue
            if name.startswith("data-text-") or (
                name in self.SHOWN_ATTRIBUTES
                and not (name == "value" and kind not in {"submit", "button"})
            ):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def english_left(text: str, *, names: set[str] = frozenset()) -> list[str]:
    """The catalogue's English found in ``text`` (already visible text), but for
    ``names`` (the models', fields' and indexes' own, which stay as they are)."""
    # A script's sentence with its blank still to fill: the blank is no English.
    text = re.sub(r"%\(\w+\)s", "|", text)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "|")
    phrases, words = english_fragments()
    found = [phrase for phrase in phrases if phrase in text]
    found += [word for word in words if re.search(rf"\b{word}\b", text)]
    return found
