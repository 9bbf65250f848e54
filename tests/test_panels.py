"""The "Vector search" debug toolbar panel. The toolbar is off in the test run; these
tests switch it on for themselves."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client, override_settings

from catalog.models import Item

pytestmark = pytest.mark.django_db


def with_toolbar(middleware: list[str]) -> list[str]:
    """The project's middleware with the toolbar's where quickstart puts it."""
    position = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
    return [
        *middleware[:position],
        "debug_toolbar.middleware.DebugToolbarMiddleware",
        *middleware[position:],
    ]


TOOLBAR_SETTINGS = {
    "DEBUG": True,
    "INSTALLED_APPS": [*settings.INSTALLED_APPS, "debug_toolbar"],
    "MIDDLEWARE": with_toolbar(settings.MIDDLEWARE),
    "ROOT_URLCONF": "tests.urls_with_toolbar",
    "DEBUG_TOOLBAR_CONFIG": {**settings.DEBUG_TOOLBAR_CONFIG, "IS_RUNNING_TESTS": False},
}


@pytest.fixture
def toolbar_client(admin_user) -> Client:
    with override_settings(**TOOLBAR_SETTINGS):
        client = Client()
        client.force_login(admin_user)
        yield client


def panel_text(client: Client, response) -> str:
    request_id = re.search(r'data-request-id="(\w+)"', response.content.decode()).group(1)
    panel = client.get(
        "/__debug__/render_panel/", {"request_id": request_id, "panel_id": "VectorSearchPanel"}
    )
    assert panel.status_code == 200
    return panel.json()["content"]


def test_the_panel_is_listed_before_the_sql_panel(toolbar_client, seed_items) -> None:
    html = toolbar_client.get("/admin/catalog/item/search/", {"vector": "3,1,2"}).content.decode()
    assert html.index('id="VectorSearchPanel"') < html.index('id="SQLPanel"')
    # The search alone: the histogram's sample is its own request.
    assert re.search(r"1 vector query in [\d.]+ms", html)


def seed_search_panel(client: Client) -> str:
    """The panel of the seed's search: [3,1,2], k = 4."""
    response = client.get("/admin/catalog/item/search/", {"vector": "3,1,2", "k": "4"})
    return panel_text(client, response)


def test_a_cosine_search_shows_the_operator_settings_and_the_index_scan(
    toolbar_client, seed_items
) -> None:
    text = seed_search_panel(toolbar_client)
    assert "&lt;=&gt;" in text
    assert "Verdict:</strong> uses index item_embedding_hnsw_idx" in text
    assert "Index Scan using item_embedding_hnsw_idx" in text
    assert "hnsw.ef_search</code></td><td>100" in text
    assert "hnsw.iterative_scan</code></td><td>strict_order" in text
    assert "hnsw.max_scan_tuples" in text
    assert "ivfflat.probes" in text
    assert "4 requested, 4 returned" in text
    assert "Buffers:" in text  # EXPLAIN (ANALYZE, BUFFERS)
    assert "Expl" in text  # the note about the SQL panel's buttons


@pytest.mark.django_db(transaction=True)
def test_a_search_in_a_transaction_of_its_own_shows_the_settings_it_ran_with(
    toolbar_client, seed_items
) -> None:
    # As in production (no test transaction around the request): BEGIN and the settings
    # go in one round trip, the query and its plan in another, and the toolbar still
    # sees the settings and the query in one transaction.
    text = seed_search_panel(toolbar_client)
    assert "Verdict:</strong> uses index item_embedding_hnsw_idx" in text
    assert "hnsw.ef_search</code></td><td>100" in text
    assert "hnsw.iterative_scan</code></td><td>strict_order" in text


def test_an_l2_search_shows_a_sequential_scan_and_the_opclass_reason(
    toolbar_client, seed_items
) -> None:
    response = toolbar_client.get(
        "/admin/catalog/item/search/", {"vector": "3,1,2", "metric": "l2"}
    )
    text = panel_text(toolbar_client, response)
    assert "Seq Scan on catalog_item" in text
    assert (
        "the operator &lt;-&gt; (L2 distance) matches no index opclass "
        "(item_embedding_hnsw_idx is vector_cosine_ops)"
    ) in text
    assert "USING hnsw (embedding vector_cosine_ops)" in text


def test_an_exact_search_says_index_scans_were_switched_off(toolbar_client, seed_items) -> None:
    response = toolbar_client.get("/admin/catalog/item/search/", {"vector": "3,1,2", "exact": "1"})
    text = panel_text(toolbar_client, response)
    assert "enable_indexscan = off" in text
    assert "Seq Scan" in text


def test_an_insert_in_the_request_is_listed_but_never_re_run(toolbar_client, seed_items) -> None:
    before = Item.objects.count()
    response = toolbar_client.get("/own/")
    assert Item.objects.count() == before + 1
    text = panel_text(toolbar_client, response)
    assert Item.objects.count() == before + 1
    assert "INSERT INTO catalog_item" in text
    assert "Not a SELECT: listed only, never re-run" in text


def test_a_view_of_ones_own_gets_verdicts_for_desc_order(toolbar_client, seed_items) -> None:
    text = panel_text(toolbar_client, toolbar_client.get("/own/"))
    assert "4 vector queries" in toolbar_client.get("/own/").content.decode()
    assert "uses index item_embedding_hnsw_idx" in text
    assert "matches no index opclass" in text  # the L2 query, ordered DESC


def test_long_query_vectors_are_abbreviated(toolbar_client, seed_items) -> None:
    text = panel_text(toolbar_client, toolbar_client.get("/own/"))
    assert "0.5,0.5,0.5,0.5,0.5,0.5,…,0.5]&#x27; /* 768 dims */" in text
    assert ",".join(["0.5"] * 20) not in text.split("djdt-vector-plan")[0]


def test_labels_are_escaped_in_the_panel(toolbar_client) -> None:
    Item.objects.create(embedding=[1, 2, 3], label="<script>alert(1)</script>")
    response = toolbar_client.get("/admin/catalog/item/search/", {"vector": "1,2,3"})
    text = panel_text(toolbar_client, response)
    assert "<script>alert(1)</script>" not in text


def test_without_debug_there_is_no_toolbar_and_no_debug_urls(admin_client, seed_items) -> None:
    assert settings.DEBUG is False
    html = admin_client.get("/admin/catalog/item/search/", {"vector": "3,1,2"}).content.decode()
    assert "djDebug" not in html
    assert admin_client.get("/__debug__/render_panel/").status_code == 404


def test_toolbar_with_debug_off_is_not_shown_even_when_installed(admin_user, seed_items) -> None:
    with override_settings(**{**TOOLBAR_SETTINGS, "DEBUG": False}):
        client = Client()
        client.force_login(admin_user)
        html = client.get("/admin/catalog/item/search/", {"vector": "3,1,2"}).content.decode()
        assert "djDebug" not in html
        assert (
            client.get("/admin/", HTTP_X_FORWARDED_FOR="127.0.0.1").content.count(b"djDebug") == 0
        )


@pytest.mark.parametrize("who", ["anonymous", "non-staff", "staff without view_item"])
def test_the_toolbar_and_its_panel_views_are_for_staff_who_may_view_items(
    who, seed_items, toolbar_client
) -> None:
    from django.contrib.auth.models import User

    from tests.conftest import staff_client

    # A request_id of a real toolbar, made by the admin's client.
    response = toolbar_client.get("/admin/catalog/item/search/", {"vector": "3,1,2"})
    request_id = re.search(r'data-request-id="(\w+)"', response.content.decode()).group(1)
    if who == "anonymous":
        client = Client()
    elif who == "non-staff":
        client = Client()
        client.force_login(User.objects.create_user("plain", password="pw"))
    else:
        client = staff_client()
    html = client.get("/admin/login/").content.decode()
    assert "djDebug" not in html
    panel = client.get(
        "/__debug__/render_panel/", {"request_id": request_id, "panel_id": "VectorSearchPanel"}
    )
    assert panel.status_code == 404


def test_a_forwarded_for_header_does_not_make_a_request_internal(admin_user, seed_items) -> None:
    with override_settings(**TOOLBAR_SETTINGS):
        client = Client(REMOTE_ADDR="10.1.2.3")
        client.force_login(admin_user)
        html = client.get("/admin/", HTTP_X_FORWARDED_FOR="127.0.0.1").content.decode()
        assert "djDebug" not in html


def test_a_filtered_search_shows_its_condition(toolbar_client, seed_items) -> None:
    response = toolbar_client.get(
        "/admin/catalog/item/search/", {"vector": "3,1,2", "k": "4", "q": "seed 3-"}
    )
    assert response.status_code == 200
    assert len(response.context["outcome"].neighbours) == 4
    text = panel_text(toolbar_client, response)
    condition = re.search(r'class="djdt-vector-condition">WHERE ([^<]*)<', text)
    assert condition is not None
    # The search box's words, each matched in the label (the admin splits on spaces).
    assert "label" in condition.group(1)
    assert "%seed%" in condition.group(1)
    assert "%3-%" in condition.group(1)


def test_a_text_search_shows_which_model_embedded_the_query(toolbar_client) -> None:
    from tests.vector_models.models import Article

    Article.objects.create(title="t", body="b", embedding=[0.1] * 64)
    response = toolbar_client.get(
        "/admin/vector_models/article/search/", {"text": "pause the program"}
    )
    text = panel_text(toolbar_client, response)
    assert "Query text embedded</strong> by WordLlama l2_supercat 64-d (64 dimensions) in" in text
    assert "<code>pause the program</code>" in text
