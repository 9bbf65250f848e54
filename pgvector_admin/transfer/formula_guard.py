"""Exported text that a spreadsheet would run as a formula, neutralised as OWASP
recommends ("CSV injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return gets a leading single quote, which spreadsheets show as text.

Numbers stay numbers (``-0.5`` is not touched, nor is any vector: ``[-1,2,3]`` starts
with a bracket), and imports take the quote off again, so a file exported then
imported gives back the same rows. A cell that already starts with quotes before
such a character gets one more, so that this holds for it too.

``PGVECTOR_ADMIN["EXPORT_FORMULA_GUARD"] = False`` turns both off.
"""

from __future__ import annotations

import re
from typing import Any

from pgvector_admin.conf import app_settings

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
# The same test in PostgreSQL's regular expressions, for COPY exports.
_SQL_TRIGGER = "^''*[-=+@\t\r]"
_SQL_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def guarding() -> bool:
    """Whether exports are neutralised (and imports restored): on unless turned off."""
    return bool(app_settings.EXPORT_FORMULA_GUARD)


def needs_guard(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula (or it would look like a
    guarded cell after an import)."""
    bare = text.lstrip("'")
    return bool(bare) and bare[0] in TRIGGERS and not _NUMBER.match(text)


def neutralise(value: Any) -> Any:
    """``value`` as an export writes it: text a spreadsheet would run, quoted."""
    if isinstance(value, str) and guarding() and needs_guard(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """An imported cell as it was before ``neutralise``."""
    if guarding() and text.startswith("'") and needs_guard(text[1:]):
        return text[1:]
    return text


def neutralised_sql(column_sql: str) -> str:
    """SQL for a text column's value as ``neutralise`` writes it (for COPY)."""
    return (
        f"CASE WHEN {column_sql} ~ '{_SQL_TRIGGER}' AND {column_sql} !~ '{_SQL_NUMBER}' "
        f"THEN '''' || {column_sql} ELSE {column_sql} END"
    )
