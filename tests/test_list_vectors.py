"""The changelist reads of each dense vector only what its cells show
(pgvector_admin.admin.list_vectors): the cells are those the whole vector gives, and
the vector is read whole wherever something else on the list might read it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client

from pgvector_admin.admin.list_vectors import list_reads_only_parts
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.parts import has_parts, read_in_parts
from tests.vector_data import admin_url
from tests.vector_models.models import Article, Document, HalfDocument, Product, Untyped

pytestmark = pytest.mark.django_db


def cells(admin_client: Client, model: type) -> tuple[Any, list[list[str]]]:
    """The changelist and each row's cells, as text."""
    response = admin_client.get(admin_url(model, ""))
    assert response.status_code == 200
    table = re.search(r'<table id="result_list">(.*?)</table>', response.content.decode(), re.S)
    assert table is not None
    body = table.group(1).split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    texts = [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in rows
    ]
    return response.context["cl"], texts


def expected_cells(obj: Any, columns: list[VectorColumn]) -> list[str]:
    """What a row's vector cells say when the whole vector is read."""
    out = []
    for column in columns:
        value = column.values(obj)
        out += [column.short(value), f"{column.type.magnitude(value):.4g}"]
    return out


@pytest.mark.parametrize(
    ("model", "fixture"),
    [
        (Document, "documents"),
        (HalfDocument, "half_documents"),
        (Product, "products"),
        (Untyped, "untyped"),
    ],
)
def test_a_long_vectors_cells_are_made_from_its_parts_and_read_as_the_whole_vector_gives(
    admin_client: Client, model: type, fixture: str, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue(fixture)
    if model is Untyped:  # a vector of any length: a short one and a long one
        Untyped.objects.create(name="long", embedding=[float(i) / 7 for i in range(1, 22)])
    changelist, rows = cells(admin_client, model)
    model_admin = changelist.model_admin
    columns = model_admin.get_vector_columns()
    in_parts = read_in_parts(columns)
    # Product's 8-d image embedding is read as it is; its 16-d text embedding in parts.
    assert [column.name for column in in_parts] == [
        column.name for column in columns if column.dimensions != 8
    ]
    listed = list(changelist.result_list)
    assert listed
    assert len(rows) == len(listed)
    for obj, row in zip(listed, rows, strict=True):
        # The long vectors were not read for the list...
        assert obj.get_deferred_fields() == {column.name for column in in_parts}
        assert all(has_parts(column, obj) for column in in_parts)
        # ...and the cells say what the whole vector says (read now, for the check).
        whole = model._default_manager.get(pk=obj.pk)
        for text in expected_cells(whole, columns):
            assert text in row, (text, row)


def test_a_row_without_a_vector_shows_a_dash(admin_client: Client) -> None:
    Article.objects.create(title="not embedded yet", body="")
    changelist, rows = cells(admin_client, Article)
    assert "embedding" in changelist.result_list[0].get_deferred_fields()
    assert rows[0][-3:-1] == ["—", "—"]


def test_the_vector_is_read_whole_when_another_column_may_read_it(
    admin_client: Client, documents: list[Document]
) -> None:
    model_admin = admin.site._registry[Document]

    def first_value(obj: Any) -> str:  # a column of the project's own that reads the vector
        return f"{obj.embedding[0]:.3f}"

    model_admin.list_display = ["title", first_value]
    try:
        changelist, rows = cells(admin_client, Document)
    finally:
        del model_admin.list_display
    obj = changelist.result_list[0]
    assert "embedding" not in obj.get_deferred_fields()
    assert f"{obj.embedding[0]:.3f}" in rows[0]
    assert expected_cells(obj, model_admin.get_vector_columns())[0] in rows[0]


def test_only_the_admins_own_columns_plain_fields_and_str_let_the_vector_go_unread() -> None:
    own = [lambda obj: "", lambda obj: ""]
    plain = {"id", "title"}
    assert list_reads_only_parts(["action_checkbox", "__str__", "title", *own], own, plain)
    assert list_reads_only_parts(["id", "similar_link", *own], own, plain)
    assert not list_reads_only_parts(["title", "embedding", *own], own, plain)
    assert not list_reads_only_parts(["title", lambda obj: "", *own], own, plain)
    assert not list_reads_only_parts(["title", "title_upper", *own], own, plain)
