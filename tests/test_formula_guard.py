"""Exports neutralise text a spreadsheet would run as a formula (results CSV, COPY
export, the library's TSV and JSON), leave numbers and vectors alone, and imports
take the guard off again: export then import gives the same rows."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test import override_settings

from catalog.models import Item
from pgvector_admin.transfer.formula_guard import needs_guard, neutralise, neutralised_sql, restore
from pgvector_admin.transfer.services import export_chunks, import_vectors

pytestmark = pytest.mark.django_db

EXPORT_URL = "/admin/catalog/item/export/"
CSV_FORMAT, TSV_FORMAT, JSON_FORMAT = "0", "1", "2"
ALL_FIELDS = {f"itemresource_{name}": "on" for name in ("id", "label", "embedding")}

HOSTILE = [
    '=HYPERLINK("https://example.org","click")',
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "'=already quoted",
]
HARMLESS = ["-0.5", "+1e5", "42", "[-1,2,3]", "plain", "a=b", "", "'quoted"]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_a_spreadsheet_would_run_gets_a_quote_and_comes_back(text) -> None:
    assert needs_guard(text)
    assert neutralise(text) == "'" + text
    assert restore(neutralise(text)) == text


@pytest.mark.parametrize("text", HARMLESS)
def test_numbers_vectors_and_plain_text_are_left_alone(text) -> None:
    assert neutralise(text) == text
    assert restore(text) == text


def test_tab_and_carriage_return_are_guarded_too() -> None:
    assert neutralise("\t=1") == "'\t=1"
    assert neutralise("\r=1") == "'\r=1"


def test_postgresql_neutralises_exactly_as_python_does() -> None:
    values = [*HOSTILE, *HARMLESS, "\t=1", "''-0.5", "'-0.5"]
    with connection.cursor() as cursor:
        for value in values:
            cursor.execute(f"SELECT {neutralised_sql('v')} FROM (SELECT %s::text AS v) t", [value])
            assert cursor.fetchone()[0] == neutralise(value), value


@pytest.fixture
def hostile_items() -> list[Item]:
    return [
        Item.objects.create(label=label, embedding=[i + 1, -1, 0.5])
        for i, label in enumerate([*HOSTILE, *HARMLESS])
    ]


def labels_in(rows: list[dict[str, str]]) -> set[str]:
    return {row["label"] for row in rows}


def expected_labels() -> set[str]:
    return {neutralise(label) for label in [*HOSTILE, *HARMLESS]}


def test_the_results_csv_is_guarded(admin_client, hostile_items) -> None:
    response = admin_client.get(
        "/admin/catalog/item/search/", {"vector": "1,-1,0.5", "k": "50", "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    # A row without a label is named as the model names it ("Item 12").
    named = {str(item) for item in hostile_items if not item.label}
    assert labels_in(rows) - named == expected_labels() - {""}
    assert all(row["embedding"].startswith("[") for row in rows)
    assert any(row["cosine_distance"].startswith("0") for row in rows)


def test_the_copy_export_is_guarded_and_imports_back_unchanged(admin_client, hostile_items) -> None:
    response = admin_client.post(EXPORT_URL, {"format": CSV_FORMAT, "resource": "0", **ALL_FIELDS})
    content = b"".join(response.streaming_content)
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert labels_in(rows) == expected_labels()
    assert {row["embedding"] for row in rows} >= {"[1,-1,0.5]"}
    before = sorted(Item.objects.values_list("id", "label", "embedding"))
    report = import_vectors(io.BytesIO(content), model=Item, dry_run=False, replace=True)
    assert report.written, report.file_error or report.errors
    assert sorted(Item.objects.values_list("id", "label", "embedding")) == before


@pytest.mark.parametrize("fmt", [TSV_FORMAT, JSON_FORMAT], ids=["tsv", "json"])
def test_the_librarys_formats_are_guarded(admin_client, hostile_items, fmt) -> None:
    response = admin_client.post(EXPORT_URL, {"format": fmt, "resource": "0", **ALL_FIELDS})
    text = response.content.decode()
    if fmt == JSON_FORMAT:
        rows = json.loads(text)
    else:
        rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    assert labels_in(rows) == expected_labels()


def test_a_tsv_export_imports_back_unchanged(admin_client, hostile_items) -> None:
    response = admin_client.post(EXPORT_URL, {"format": TSV_FORMAT, "resource": "0", **ALL_FIELDS})
    before = sorted(Item.objects.values_list("id", "label", "embedding"))
    report = import_vectors(
        io.BytesIO(response.content), model=Item, dry_run=False, replace=True, delimiter="\t"
    )
    assert report.written, report.file_error or report.errors
    assert sorted(Item.objects.values_list("id", "label", "embedding")) == before


@override_settings(PGVECTOR_ADMIN={"EXPORT_FORMULA_GUARD": False})
def test_a_setting_turns_the_guard_off(hostile_items) -> None:
    content = b"".join(export_chunks(queryset=Item.objects.all())).decode()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert labels_in(rows) == set(HOSTILE) | set(HARMLESS)
    assert restore("'=x") == "'=x"
