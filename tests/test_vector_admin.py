"""The vector admin on models of the tests' own app (tests/vector_models): a 768-d
vector, a 1,536-d halfvec, a model with two vector fields (HNSW and IVFFlat), and a
column without a declared dimension count. Exact answers are checked with numpy."""

from __future__ import annotations

import csv
import io
import re
from unittest import mock

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from pgvector import SparseVector

from pgvector_admin.search.catalogue import column_indexes
from pgvector_admin.search.index_choice import index_for
from pgvector_admin.vectors.fields import VectorColumn
from tests.vector_data import (
    assert_same_answer,
    exact_answer,
    results_csv,
    url,
)
from tests.vector_models.models import (
    BitDocument,
    Document,
    HalfDocument,
    Product,
    SparseDocument,
    Untyped,
)

pytestmark = pytest.mark.django_db


def test_registering_a_model_is_all_it_takes(admin_client: Client, documents) -> None:
    page = admin_client.get(url(Document, "changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'class="vector-search"' in text
    assert url(Document, "search") in text
    assert "(768 dims), norm" in text
    assert "similar rows" in text
    assert url(Document, "search") == "/admin/vector_models/document/search/"
    assert url(Document, "similar", 7) == "/admin/vector_models/document/7/similar/"


@pytest.mark.parametrize(
    ("model", "field", "metric", "fixture"),
    [
        (Document, "embedding", "cosine", "documents"),
        (Document, "embedding", "ip", "documents"),
        (HalfDocument, "embedding", "l2", "half_documents"),
        (HalfDocument, "embedding", "l1", "half_documents"),
        (Product, "text_embedding", "cosine", "products"),
        (Product, "image_embedding", "l2", "products"),
    ],
)
def test_exact_search_is_numpys_answer(
    admin_client: Client, request, model, field, metric, fixture
) -> None:
    request.getfixturevalue(fixture)
    dimensions = model._meta.get_field(field).dimensions
    query = np.random.default_rng(9).normal(size=dimensions)
    text = ",".join(f"{value:.6f}" for value in query)
    params = {"vector": text, "field": field, "k": 15, "metric": metric, "exact": 1}
    rows = results_csv(admin_client.get(url(model, "search"), {**params, "format": "csv"}))
    assert len(rows) == 15
    stored_query = np.asarray([float(value) for value in text.split(",")])
    assert_same_answer(rows, exact_answer(model, field, stored_query, metric, 15), metric)


@pytest.mark.usefixtures("index_scans_only")
@pytest.mark.parametrize(
    ("model", "field", "metric", "index", "fixture"),
    [
        (Document, "embedding", "cosine", "document_embedding_hnsw", "documents"),
        (HalfDocument, "embedding", "l2", "halfdocument_embedding_hnsw", "half_documents"),
        (Product, "text_embedding", "cosine", "product_text_hnsw", "products"),
    ],
)
def test_indexed_search_names_the_index_and_returns_k_rows(
    admin_client: Client, request, model, field, metric, index, fixture
) -> None:
    request.getfixturevalue(fixture)
    dimensions = model._meta.get_field(field).dimensions
    query = ",".join("0.5" for _ in range(dimensions))
    response = admin_client.get(
        url(model, "search"), {"vector": query, "field": field, "k": 12, "metric": metric}
    )
    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert outcome.scan_index == index
    assert len(outcome.neighbours) == 12
    assert f"Served by the index <code>{index}</code>" in response.content.decode()


def test_find_similar_leaves_the_row_out_and_is_numpys_answer(
    admin_client: Client, documents
) -> None:
    target = documents[17]
    response = admin_client.get(
        url(Document, "similar", target.pk), {"k": 10, "exact": 1, "format": "csv"}
    )
    rows = results_csv(response)
    assert str(target.pk) not in [row["id"] for row in rows]
    stored = np.asarray(Document.objects.get(pk=target.pk).embedding)
    expected = exact_answer(Document, "embedding", stored, "cosine", 10, exclude=target.pk)
    assert_same_answer(rows, expected, "cosine")


def test_the_results_pages_read_of_each_rows_vector_only_its_cell_and_the_csv_all_of_it(
    admin_client: Client, documents
) -> None:
    column = VectorColumn.of(Document, "embedding")
    query = ",".join("0.5" for _ in range(768))
    for page in (
        admin_client.get(url(Document, "search"), {"vector": query, "k": 10}),
        admin_client.get(url(Document, "similar", documents[5].pk), {"k": 10}),
    ):
        assert page.status_code == 200
        neighbours = page.context["outcome"].neighbours
        assert len(neighbours) == 10
        html = page.content.decode()
        for neighbour in neighbours:
            assert neighbour.embedding is None
            whole = Document.objects.get(pk=neighbour.id).embedding
            assert neighbour.cell == column.short(whole)
            assert f"<code>{neighbour.cell}</code>" in html
    rows = results_csv(
        admin_client.get(url(Document, "search"), {"vector": query, "k": 10, "format": "csv"})
    )
    assert len(rows) == 10
    assert all(len(row["embedding"].split(",")) == 768 for row in rows)


def test_the_action_opens_the_similar_page(admin_client: Client, documents) -> None:
    target = documents[3]
    response = admin_client.post(
        url(Document, "changelist"),
        {"action": "find_similar", "_selected_action": [target.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == url(Document, "similar", target.pk)


def test_the_change_page_shows_the_whole_vector_in_a_scrolling_block(
    admin_client: Client, documents
) -> None:
    page = admin_client.get(url(Document, "change", documents[0].pk)).content.decode()
    start = page.index('<pre class="vector-full">')
    block = page[start : page.index("</pre>", start)]
    assert block.count(",") == 767
    assert url(Document, "similar", documents[0].pk) in page


@pytest.mark.parametrize(
    ("model", "params", "message"),
    [
        (Document, {"vector": "1,2,3"}, "expected 768 dimensions, not 3"),
        (HalfDocument, {"vector": ",".join(["70000"] * 1536)}, "out of range for halfvec"),
        (
            Product,
            {"vector": ",".join(["1"] * 8), "field": "text_embedding"},
            "expected 16 dimensions, not 8",
        ),
        (Product, {"vector": "1,2", "field": "price"}, "Select a valid choice"),
        (Document, {"vector": ",".join(["1"] * 768), "metric": "hamming"}, "Select a valid choice"),
    ],
)
def test_bad_queries_get_a_clear_message_never_a_500(
    admin_client: Client, model, params, message
) -> None:
    response = admin_client.get(url(model, "search"), params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_column_without_a_dimension_count_checks_the_stored_one(admin_client: Client) -> None:
    Untyped.objects.bulk_create([Untyped(name=f"u{i}", embedding=[i, 1, 2, 3]) for i in range(5)])
    wrong = admin_client.get(url(Untyped, "search"), {"vector": "1,2,3"})
    assert wrong.status_code == 400
    assert "expected 4 dimensions, not 3: the stored vectors have 4" in wrong.content.decode()
    right = admin_client.get(url(Untyped, "search"), {"vector": "1,2,3,4", "k": 3})
    assert right.status_code == 200
    assert len(right.context["outcome"].neighbours) == 3


def test_two_vector_fields_each_have_their_own_search_and_similar(
    admin_client: Client, products
) -> None:
    page = admin_client.get(url(Product, "changelist")).content.decode()
    assert "Text embedding norm" in page
    assert "Image embedding norm" in page
    target = products[5]
    for field, metric in (("text_embedding", "cosine"), ("image_embedding", "l2")):
        response = admin_client.get(
            url(Product, "similar", target.pk), {"field": field, "metric": metric, "k": 5}
        )
        outcome = response.context["outcome"]
        assert outcome.column.name == field
        assert len(outcome.neighbours) == 5
        assert target.pk not in [n.id for n in outcome.neighbours]


def test_columns_describe_type_dimensions_metrics_and_indexes() -> None:
    half = VectorColumn.of(HalfDocument, "embedding")
    assert (half.type.name, half.dimensions, half.table) == (
        "halfvec",
        1536,
        "vector_models_halfdocument",
    )
    assert [m.name for m in half.metrics] == ["cosine", "l2", "ip", "l1"]
    [index] = column_indexes(half)
    assert (index.name, index.opclass) == ("halfdocument_embedding_hnsw", "halfvec_l2_ops")
    image = VectorColumn.of(Product, "image_embedding")
    [index] = column_indexes(image)
    assert (index.name, index.method) == ("product_image_ivfflat", "ivfflat")
    assert index_for(image, image.metric("l2")).name == "product_image_ivfflat"
    assert index_for(image, image.metric("cosine")) is None


@pytest.mark.usefixtures("index_scans_only")
def test_an_ivfflat_search_raises_probes_and_scans_iteratively_to_k_rows(
    admin_client: Client, products
) -> None:
    query = ",".join("0.1" for _ in range(8))
    response = admin_client.get(
        url(Product, "search"),
        {"vector": query, "field": "image_embedding", "metric": "l2", "k": 100},
    )
    outcome = response.context["outcome"]
    assert outcome.scan_index == "product_image_ivfflat"
    assert outcome.settings["ivfflat.probes"] == "2"  # the square root of its 4 lists
    assert outcome.settings["ivfflat.iterative_scan"] == "relaxed_order"
    assert not outcome.fell_back_to_exact
    # 100 of 120 rows: more than the 2 probed lists hold, found by probing further.
    distances = [n.distance(outcome.metric) for n in outcome.neighbours]
    assert len(distances) == 100
    assert distances == sorted(distances)
    assert "reads only the lists nearest to the query" in response.content.decode()


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip", "l1"])
def test_sparse_search_takes_pgvector_text_and_is_numpys_answer(
    admin_client: Client, sparse_documents, metric: str
) -> None:
    query = SparseVector({3: 1.5, 120: 0.5, 29999: 2.0}, 30000)
    text = "{4:1.5,121:0.5,30000:2}/30000"  # the same, 1-based as pgvector writes it
    rows = results_csv(
        admin_client.get(
            url(SparseDocument, "search"),
            {"vector": text, "metric": metric, "k": 10, "exact": 1, "format": "csv"},
        )
    )
    assert_same_answer(rows, exact_answer(SparseDocument, "embedding", query, metric, 10), metric)


def test_sparse_similar_and_the_non_zero_count_in_lists(
    admin_client: Client, sparse_documents
) -> None:
    target = sparse_documents[0]
    rows = results_csv(
        admin_client.get(
            url(SparseDocument, "similar", target.pk), {"k": 8, "exact": 1, "format": "csv"}
        )
    )
    stored = SparseDocument.objects.get(pk=target.pk).embedding
    expected = exact_answer(SparseDocument, "embedding", stored, "cosine", 8, exclude=target.pk)
    assert_same_answer(rows, expected, "cosine")
    assert rows[0]["embedding"].startswith("{")
    assert rows[0]["embedding"].endswith("}/30000")
    page = admin_client.get(url(SparseDocument, "changelist")).content.decode()
    assert "non-zero), norm" in page


@pytest.mark.usefixtures("index_scans_only")
def test_sparse_indexed_search_uses_the_sparsevec_index(
    admin_client: Client, sparse_documents
) -> None:
    response = admin_client.get(
        url(SparseDocument, "search"), {"vector": "{1:1,2:1}/30000", "k": 5}
    )
    assert response.context["outcome"].scan_index == "sparsedocument_hnsw"


@pytest.mark.parametrize("metric", ["hamming", "jaccard"])
def test_bit_search_is_numpys_answer(admin_client: Client, bit_documents, metric: str) -> None:
    bits = "".join(np.random.default_rng(8).choice(["0", "1"], size=1024))
    spaced = " ".join(bits[i : i + 8] for i in range(0, 1024, 8))  # groups are fine
    rows = results_csv(
        admin_client.get(
            url(BitDocument, "search"),
            {"vector": spaced, "metric": metric, "k": 12, "exact": 1, "format": "csv"},
        )
    )
    assert_same_answer(rows, exact_answer(BitDocument, "embedding", bits, metric, 12), metric)


@pytest.mark.usefixtures("index_scans_only")
def test_bit_pages_use_the_hamming_index_and_show_bits_shortly(
    admin_client: Client, bit_documents
) -> None:
    target = bit_documents[2]
    response = admin_client.get(url(BitDocument, "similar", target.pk), {"k": 5})
    outcome = response.context["outcome"]
    assert outcome.metric.name == "hamming"
    assert outcome.scan_index == "bitdocument_hnsw"
    assert [m.name for m in outcome.metrics] == ["hamming", "jaccard"]
    page = admin_client.get(url(BitDocument, "changelist")).content.decode()
    assert "(1,024 bits, " in page


@pytest.mark.parametrize(
    ("model", "vector", "message"),
    [
        (SparseDocument, "{1:1,1:2}/30000", "Index 1 appears twice"),
        (SparseDocument, "{0:1}/30000", "Index 0 is outside 1 to 30000"),
        (SparseDocument, "{1:1}/10", "expected 30000 dimensions, not 10"),
        (SparseDocument, "{1:nan}/30000", "NaN"),
        (SparseDocument, "{1=2}/30000", "is not index:value"),
        (SparseDocument, "{}/30000", "cosine distance to a zero vector is undefined"),
        (BitDocument, "0101", "expected 1024 bits, not 4"),
        (BitDocument, "01x1", "Character 3 (&#x27;x&#x27;) is not 0 or 1"),
    ],
)
def test_bad_sparse_and_bit_queries_get_a_clear_message(
    admin_client: Client, model, vector: str, message: str
) -> None:
    response = admin_client.get(url(model, "search"), {"vector": vector})
    assert response.status_code == 400
    assert message in response.content.decode()


def export(*args: str) -> tuple[list[dict[str, str]], str]:
    out, err = io.StringIO(), io.StringIO()
    target = io.BytesIO()
    with mock.patch("sys.stdout", new=mock.Mock(buffer=target)):
        call_command("export_vectors", *args, stdout=out, stderr=err)
    return list(csv.DictReader(io.StringIO(target.getvalue().decode()))), err.getvalue()


@pytest.mark.parametrize(
    ("model", "fixture", "columns"),
    [
        (Document, "documents", ["id", "title", "embedding"]),
        (HalfDocument, "half_documents", ["id", "title", "embedding"]),
        (Product, "products", ["id", "name", "text_embedding", "image_embedding"]),
        (SparseDocument, "sparse_documents", ["id", "title", "embedding"]),
        (BitDocument, "bit_documents", ["id", "title", "embedding"]),
    ],
)
def test_export_vectors_writes_any_models_rows_as_pgvector_text(
    request, model, fixture: str, columns: list[str]
) -> None:
    request.getfixturevalue(fixture)
    rows, err = export("--model", model._meta.label)
    assert list(rows[0]) == columns
    assert len(rows) == model.objects.count()
    assert f"Wrote {model._meta.label} ({','.join(columns)})" in err
    first = model.objects.order_by("pk").first()
    for name in columns[2:]:
        column = VectorColumn.of(model, name)
        # The text is pgvector's own, and reads back as the stored value.
        assert rows[0][name] == column.text(getattr(first, name))
        assert column.parse(rows[0][name]) == column.values(first)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("nowhere.Thing", "No model 'nowhere.Thing': name it as app_label.ModelName"),
        ("Document", "No model 'Document'"),
        ("auth.User", "auth.User has no pgvector field"),
    ],
)
def test_export_vectors_names_a_bad_model_clearly(label: str, message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("export_vectors", "--model", label)


def test_an_admin_without_actions_gets_no_find_similar_action(admin_client: Client) -> None:
    from django.contrib import admin
    from django.test import RequestFactory

    from tests.vector_models.admin import DocumentAdmin

    request = RequestFactory().get("/")
    request.user = User.objects.get(username="admin")
    quiet = DocumentAdmin(Document, admin.site)
    assert "find_similar" in quiet.get_actions(request)
    quiet.actions = None
    assert quiet.get_actions(request) == {}


def test_the_action_checkbox_is_djangos_own_html(documents) -> None:
    from django.contrib import admin as django_admin

    from tests.vector_models.models import Document

    model_admin = django_admin.site._registry[Document]
    for obj in Document.objects.order_by("pk")[:3]:
        stock = django_admin.ModelAdmin.action_checkbox(model_admin, obj)
        assert model_admin.action_checkbox(obj) == stock
