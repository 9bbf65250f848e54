"""The package's translations: the Korean catalogue is complete for the code as it is,
its compiled form is the one shipped, and every translation keeps the placeholders and
markup of its English."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.utils import translation

import pgvector_admin
from pgvector_admin.numbers import grouped

PACKAGE = Path(pgvector_admin.__file__).parent
KOREAN = PACKAGE / "locale" / "ko" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)s|%%|\{\w+\}")
TAG = re.compile(r"</?\w+[^>]*>")


def korean_catalogue() -> polib.POFile:
    return polib.pofile(str(KOREAN / "django.po"))


def test_makemessages_finds_no_korean_message_untranslated_or_fuzzy(tmp_path: Path) -> None:
    # The messages are gathered again from a copy of the package as it is now: a string
    # added without its Korean fails here.
    copy = tmp_path / "pgvector_admin"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "vendor"))
    here = Path.cwd()
    os.chdir(copy)
    try:
        call_command("makemessages", locale=["ko"], no_obsolete=True, verbosity=0)
    finally:
        os.chdir(here)
    gathered = polib.pofile(str(copy / "locale" / "ko" / "LC_MESSAGES" / "django.po"))
    untranslated = [entry.msgid for entry in gathered.untranslated_entries()]
    fuzzy = [entry.msgid for entry in gathered.fuzzy_entries()]
    assert (untranslated, fuzzy) == ([], [])
    assert len(gathered.translated_entries()) == len(korean_catalogue().translated_entries())
    assert len(gathered.translated_entries()) > 500


def test_the_shipped_mo_file_is_the_compiled_catalogue(tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check", "-o", str(compiled), str(KOREAN / "django.po")], check=True
    )
    with (KOREAN / "django.mo").open("rb") as shipped, compiled.open("rb") as fresh:
        assert gettext.GNUTranslations(shipped)._catalog == gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]


def test_every_translation_keeps_its_placeholders_and_markup() -> None:
    for entry in korean_catalogue().translated_entries():
        english = entry.msgid_plural or entry.msgid
        korean = entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr
        assert sorted(PLACEHOLDER.findall(korean)) == sorted(PLACEHOLDER.findall(english)) or (
            # A count may be left out of a plural form's translation, not added.
            set(PLACEHOLDER.findall(korean)) <= set(PLACEHOLDER.findall(english))
        ), entry.msgid
        assert sorted(TAG.findall(korean)) == sorted(TAG.findall(english)), entry.msgid


def test_korean_is_the_catalogues_language_with_one_plural_form() -> None:
    metadata = korean_catalogue().metadata
    assert metadata["Language"] == "ko"
    assert metadata["Plural-Forms"] == "nplurals=1; plural=0;"


@pytest.mark.parametrize(
    ("language", "count", "rate"),
    [
        ("en", "1,234,567", "1,234.6"),
        ("ko", "1,234,567", "1,234.6"),
        ("de", "1.234.567", "1.234,6"),
    ],
)
def test_numbers_are_written_as_the_active_language_writes_them(
    language: str, count: str, rate: str
) -> None:
    with translation.override(language):
        assert (grouped(1234567), grouped(1234.567, 1)) == (count, rate)


def test_a_message_reads_in_korean_when_korean_is_active() -> None:
    from pgvector_admin.vectors.parsing import VectorError, parse_vector

    with translation.override("ko"), pytest.raises(VectorError) as raised:
        parse_vector("1,2", dimensions=3)
    assert str(raised.value) == "3차원이어야 하는데 2차원입니다: 이 열의 벡터는 숫자 3개입니다."
