import csv
import io

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Item
from tests.conftest import staff_client

pytestmark = pytest.mark.django_db

SEARCH_URL = "/admin/catalog/item/search/"
CHANGELIST_URL = "/admin/catalog/item/"
VECTOR_OPERATORS = ("<=>", "<->", "<#>", "<+>")


def similar_url(item: Item) -> str:
    return f"/admin/catalog/item/{item.pk}/similar/"


def vector_queries(context: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in context.captured_queries if any(op in q["sql"] for op in VECTOR_OPERATORS)
    ]


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def test_url_names_are_the_documented_ones() -> None:
    assert reverse("admin:catalog_item_search") == SEARCH_URL
    assert reverse("admin:catalog_item_similar", args=[7]) == "/admin/catalog/item/7/similar/"


# Changelist and change page


def test_changelist_shows_id_label_embedding_norm_and_a_similar_link(
    admin_client, seed_items
) -> None:
    response = admin_client.get(CHANGELIST_URL)
    assert response.status_code == 200
    html = response.content.decode()
    item = Item.objects.get(label="seed 3-1-2")
    assert "[3, 1, 2]" in html
    assert "3.742" in html  # its norm, sqrt(14)
    assert f'href="{similar_url(item)}"' in html
    assert 'action="/admin/catalog/item/search/"' in html
    assert 'name="vector"' in html


def test_change_page_shows_the_embedding_read_only_with_a_find_similar_link(
    admin_client, seed_items
) -> None:
    item = Item.objects.get(label="seed 3-1-2")
    response = admin_client.get(f"/admin/catalog/item/{item.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "[3, 1, 2]" in html
    assert 'name="embedding' not in html
    assert 'name="label"' in html
    assert f'href="{similar_url(item)}"' in html


def test_saving_the_change_page_keeps_the_embedding(admin_client, seed_items) -> None:
    item = Item.objects.get(label="seed 3-1-2")
    response = admin_client.post(f"/admin/catalog/item/{item.pk}/change/", {"label": "renamed"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.label, item.embedding) == ("renamed", [3.0, 1.0, 2.0])


def test_there_is_no_add_form_that_could_only_fail(admin_client) -> None:
    assert admin_client.get("/admin/catalog/item/add/").status_code == 403


# Search page


def test_search_page_without_a_query_shows_the_empty_form(admin_client, seed_items) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(SEARCH_URL)
    assert response.status_code == 200
    assert b'name="vector"' in response.content
    assert vector_queries(queries) == []


def test_search_lists_the_nearest_rows_with_every_distance(admin_client, seed_items) -> None:
    response = admin_client.get(SEARCH_URL, {"vector": "[3,1,2]", "k": "4"})
    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert outcome.neighbours[0].label == "seed 3-1-2"
    html = response.content.decode()
    for header in ("cosine distance", "L2 distance", "inner product", "L1 distance"):
        assert header in html
    assert "0.0180195" in html
    assert "Served by the index <code>item_embedding_hnsw_idx</code>" in html
    assert "hnsw.ef_search = 100" in html
    assert "hnsw.iterative_scan = strict_order" in html


def test_search_by_l2_says_no_index_serves_it(admin_client, seed_items) -> None:
    html = admin_client.get(SEARCH_URL, {"vector": "3,1,2", "metric": "l2"}).content.decode()
    assert "No index serves L2 distance" in html
    assert "vector_cosine_ops" in html


def test_exact_search_says_the_index_was_switched_off(admin_client, seed_items) -> None:
    html = admin_client.get(SEARCH_URL, {"vector": "3,1,2", "exact": "1"}).content.decode()
    assert "Exact scan, index switched off" in html
    assert "enable_indexscan = off" in html


def test_search_shows_recall_on_request(admin_client, seed_items) -> None:
    html = admin_client.get(
        SEARCH_URL, {"vector": "3,1,2", "k": "5", "recall": "1"}
    ).content.decode()
    assert "recall@5 = 1.000" in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"vector": "1,2,3,4"}, "expected 3 dimensions, not 4"),
        ({"vector": "one,two,three"}, "is not a number"),
        ({"vector": ""}, "This field is required"),
        ({"vector": "nan,1,2"}, "NaN"),
        ({"vector": "inf,1,2"}, "infinite"),
        ({"vector": "-inf,1,2"}, "infinite"),
        ({"vector": "1e40,1,2"}, "out of range"),
        ({"vector": "1,2,3", "k": "0"}, "greater than or equal to 1"),
        ({"vector": "1,2,3", "k": "100000"}, "less than or equal to 1000"),
        ({"vector": "1,2,3", "metric": "dot"}, "Select a valid choice"),
        ({"vector": "0,0,0"}, "zero vector is undefined"),
    ],
)
def test_bad_input_is_a_form_error_and_runs_no_vector_query(
    admin_client, seed_items, params, message
) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(SEARCH_URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert vector_queries(queries) == []


HEADER = [
    "rank",
    "id",
    "label",
    "embedding",
    "cosine_distance",
    "l2_distance",
    "inner_product",
    "l1_distance",
]


def test_search_results_as_csv(admin_client, seed_items) -> None:
    response = admin_client.get(SEARCH_URL, {"vector": "3,1,2", "k": "4", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response.content)
    assert rows[0] == HEADER
    assert len(rows) == 5
    first = dict(zip(HEADER, rows[1], strict=True))
    assert first["rank"] == "1"
    assert first["label"] == "seed 3-1-2"
    assert first["embedding"] == "[3.0,1.0,2.0]"
    assert float(first["inner_product"]) == 14.0
    assert [float(row[4]) for row in rows[1:]] == pytest.approx(
        [0.0, 0.0180194939380343, 0.0189770568240547, 0.0200421129877772], abs=1e-6
    )


def test_the_page_links_to_its_csv(admin_client, seed_items) -> None:
    html = admin_client.get(SEARCH_URL, {"vector": "3,1,2", "k": "4"}).content.decode()
    assert "format=csv" in html


# Similar page


def test_similar_page_lists_the_neighbours_without_the_row_itself(admin_client, seed_items) -> None:
    item = Item.objects.get(label="seed 3-1-2")
    response = admin_client.get(similar_url(item), {"k": "3"})
    assert response.status_code == 200
    ids = [n.id for n in response.context["outcome"].neighbours]
    assert len(ids) == 3
    assert item.pk not in ids
    assert response.context["outcome"].neighbours[0].label == "seed 2-1-1"


def test_similar_page_defaults_to_10_by_cosine(admin_client, seed_items) -> None:
    item = Item.objects.get(label="seed 1-1-1")
    outcome = admin_client.get(similar_url(item)).context["outcome"]
    assert (outcome.k, outcome.metric.name, len(outcome.neighbours)) == (10, "cosine", 10)


def test_similar_results_as_csv(admin_client, seed_items) -> None:
    item = Item.objects.get(label="seed 3-1-2")
    response = admin_client.get(similar_url(item), {"k": "26", "metric": "l1", "format": "csv"})
    rows = read_csv(response.content)
    assert rows[0] == HEADER
    assert len(rows) == 27
    assert str(item.pk) not in [row[1] for row in rows[1:]]
    l1 = [float(row[7]) for row in rows[1:]]
    assert l1 == sorted(l1)


def test_similar_page_refuses_bad_options(admin_client, seed_items) -> None:
    item = Item.objects.get(label="seed 3-1-2")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(similar_url(item), {"k": "-5", "metric": "cosine"})
    assert response.status_code == 400
    assert vector_queries(queries) == []


def test_similar_to_a_zero_vector_by_cosine_is_refused(admin_client) -> None:
    item = Item.objects.create(embedding=[0, 0, 0], label="zero")
    Item.objects.create(embedding=[1, 0, 0], label="x")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(similar_url(item))
    assert response.status_code == 400
    assert "zero vector is undefined" in response.content.decode()
    assert vector_queries(queries) == []
    assert admin_client.get(similar_url(item), {"metric": "l2"}).status_code == 200


def test_similar_to_a_missing_item_redirects_with_a_message(admin_client) -> None:
    response = admin_client.get("/admin/catalog/item/999999/similar/", follow=True)
    assert response.status_code == 200
    assert "doesn\u2019t exist" in response.content.decode()
    assert admin_client.get("/admin/catalog/item/not-a-number/similar/").status_code == 302


# The action


def run_action(client: Client, ids: list[int]):
    return client.post(
        CHANGELIST_URL,
        # As the changelist's form posts it: "index" is the action bar's position.
        {"action": "find_similar", "index": "0", "_selected_action": [str(i) for i in ids]},
        follow=True,
    )


def test_find_similar_action_with_one_row_opens_its_similar_page(admin_client, seed_items) -> None:
    item = Item.objects.get(label="seed 3-1-2")
    response = run_action(admin_client, [item.pk])
    assert response.redirect_chain[-1][0] == similar_url(item)
    assert len(response.context["outcome"].neighbours) == 10


def test_find_similar_action_with_two_rows_asks_for_exactly_one(admin_client, seed_items) -> None:
    response = run_action(admin_client, [seed_items[0].pk, seed_items[1].pk])
    assert response.redirect_chain == [] or response.redirect_chain[-1][0].endswith(CHANGELIST_URL)
    assert (
        "Select exactly one item to find its similar items (2 selected)."
        in response.content.decode()
    )


def test_find_similar_action_with_no_row_says_to_select_one(admin_client, seed_items) -> None:
    response = run_action(admin_client, [])
    assert "Items must be selected in order to perform actions on them" in response.content.decode()


# Access


@pytest.mark.parametrize("url", [SEARCH_URL + "?vector=1,2,3", "/admin/catalog/item/1/similar/"])
def test_anonymous_users_are_sent_to_the_login_page(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_non_staff_users_are_sent_to_the_login_page(client) -> None:
    user = User.objects.create_user("someone", password="pw")
    client.force_login(user)
    assert client.get(SEARCH_URL).status_code == 302


def test_staff_without_view_permission_get_403(seed_items) -> None:
    client = staff_client()
    item = seed_items[0]
    assert client.get(SEARCH_URL, {"vector": "1,2,3"}).status_code == 403
    assert client.get(similar_url(item)).status_code == 403


def test_staff_with_view_permission_can_search_and_find_similar(seed_items) -> None:
    client = staff_client("view_item")
    assert client.get(SEARCH_URL, {"vector": "1,2,3"}).status_code == 200
    assert client.get(similar_url(seed_items[0])).status_code == 200
    response = run_action(client, [seed_items[0].pk])
    assert response.redirect_chain[-1][0] == similar_url(seed_items[0])


def test_labels_and_query_text_are_escaped(admin_client) -> None:
    script = "<script>alert(1)</script>"
    item = Item.objects.create(embedding=[1, 2, 3], label=script)
    Item.objects.create(embedding=[1, 2, 4], label="other")
    pages = [
        admin_client.get(CHANGELIST_URL),
        admin_client.get(SEARCH_URL, {"vector": "1,2,3"}),
        admin_client.get(similar_url(Item.objects.get(label="other"))),
        admin_client.get(SEARCH_URL, {"vector": script}),
        admin_client.get(f"/admin/catalog/item/{item.pk}/change/"),
    ]
    for response in pages:
        html = response.content.decode()
        assert script not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
