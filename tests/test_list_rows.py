"""The changelist's rows written directly (pgvector_admin.admin.list_rows) are the
rows Django's own ``items_for_result`` writes, cell for cell; where a column is one
it does not know, the list is Django's."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import items_for_result
from django.test import Client

from pgvector_admin.admin.list_rows import vector_results
from tests.vector_data import admin_url
from tests.vector_models.models import (
    Article,
    BitDocument,
    Document,
    Listing,
    Passage,
    Product,
    SparseDocument,
    Untyped,
)

pytestmark = pytest.mark.django_db


def djangos_rows(changelist: Any) -> list[str]:
    """Each row as Django's own admin writes it."""
    return [
        "<tr>" + "".join(items_for_result(changelist, result, None)) + "</tr>"
        for result in changelist.result_list
    ]


def assert_rows_are_djangos(page: Any) -> Any:
    assert page.status_code == 200
    changelist = page.context["cl"]
    assert changelist.result_list
    html = page.content.decode()
    for row in djangos_rows(changelist):
        assert row in html, row
    return changelist


@pytest.mark.parametrize(
    ("model", "fixture"),
    [
        (Document, "documents"),
        (Product, "products"),
        (Untyped, "untyped"),
        (SparseDocument, "sparse_documents"),
        (BitDocument, "bit_documents"),
    ],
)
def test_each_row_is_the_one_django_writes(
    admin_client: Client, model: type, fixture: str, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue(fixture)
    # Ordered by a column: the row links keep the list's filters (_changelist_filters).
    page = admin_client.get(admin_url(model, ""), {"o": "-1"})
    changelist = assert_rows_are_djangos(page)
    assert vector_results(changelist) is not None
    assert "?_changelist_filters=o%3D-1" in page.content.decode()


def test_dates_numbers_and_empty_values_are_written_as_django_writes_them(
    admin_client: Client,
) -> None:
    Listing.objects.create(
        title="a <b>", shard=1234567, added=datetime.date(2026, 12, 4), embedding=[1] * 8
    )
    Article.objects.create(title="not embedded yet", body="")
    for model in (Listing, Article):
        changelist = assert_rows_are_djangos(admin_client.get(admin_url(model, "")))
        assert vector_results(changelist) is not None
    html = admin_client.get(admin_url(Listing, "")).content.decode()
    assert "a &lt;b&gt;" in html
    assert 'class="field-added nowrap"' in html


def test_choices_booleans_json_and_str_are_written_as_django_writes_them(
    admin_client: Client, passages: list[Passage]
) -> None:
    model_admin = admin.site._registry[Passage]
    model_admin.list_display = ["id", "__str__", "kind", "published", "metadata", "code"]
    try:
        changelist = assert_rows_are_djangos(admin_client.get(admin_url(Passage, "")))
    finally:
        del model_admin.list_display
    assert vector_results(changelist) is not None


def test_a_related_column_leaves_the_list_to_django(
    admin_client: Client, passages: list[Passage]
) -> None:
    # PassageAdmin lists its collection: a foreign key.
    changelist = assert_rows_are_djangos(admin_client.get(admin_url(Passage, "")))
    assert vector_results(changelist) is None


def test_a_blank_text_leaves_its_row_to_django(admin_client: Client) -> None:
    Listing.objects.create(title="   ", shard=1, added=datetime.date(2026, 1, 1), embedding=[1] * 8)
    Listing.objects.create(
        title="plain", shard=2, added=datetime.date(2026, 1, 2), embedding=[1] * 8
    )
    changelist = assert_rows_are_djangos(admin_client.get(admin_url(Listing, "")))
    rows = vector_results(changelist)
    assert rows is not None
    # One row is Django's own cells, the other one string of them.
    assert sorted(len(row) for row in rows) == [1, len(changelist.list_display)]
