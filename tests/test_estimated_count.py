"""The changelist past COUNT_ESTIMATE_ABOVE rows: the planner's estimate instead of
COUNT(*), said to be one, with the exact count a click away."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from catalog.models import Item
from pgvector_admin.search.table_sample import planner_rows

pytestmark = pytest.mark.django_db

ITEMS = "/admin/catalog/item/"
ESTIMATING = {"COUNT_ESTIMATE_ABOVE": 5}


def counts(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries if re.search(r"COUNT\(\*\)", query["sql"])]


def test_past_the_threshold_the_list_shows_the_planners_estimate_without_counting(
    admin_client: Client, seed_items
) -> None:
    estimate = planner_rows("default", *Item.objects.order_by("-pk").query.sql_with_params())
    with override_settings(PGVECTOR_ADMIN=ESTIMATING), CaptureQueriesContext(connection) as seen:
        page = admin_client.get(ITEMS)
    html = page.content.decode()
    assert page.status_code == 200
    assert counts(seen) == []
    assert f"about {estimate:,} items" in html
    assert 'href="?_count=exact"' in html
    # The rows are listed as before.
    assert html.count('class="action-select"') == min(len(seed_items), 100)


def test_the_exact_count_is_one_click_away(admin_client: Client, seed_items) -> None:
    with override_settings(PGVECTOR_ADMIN=ESTIMATING), CaptureQueriesContext(connection) as seen:
        page = admin_client.get(ITEMS, {"_count": "exact"})
    html = page.content.decode()
    assert page.status_code == 200  # not refused as an unknown filter
    assert counts(seen)
    assert f"{len(seed_items)} items" in html
    assert "about" not in re.sub(r"<[^>]+>", "", html.split('class="paginator"')[1])


def test_a_filtered_estimated_list_counts_nothing_and_keeps_the_vector_search(
    admin_client: Client, seed_items
) -> None:
    with override_settings(PGVECTOR_ADMIN=ESTIMATING), CaptureQueriesContext(connection) as seen:
        page = admin_client.get(ITEMS, {"q": "seed 3"})
    html = page.content.decode()
    assert counts(seen) == []
    assert "total)" not in html  # no count of the whole table either
    assert 'name="vector"' in html
    assert '<input type="hidden" name="q" value="seed 3">' in html
    # The map of the rows shown: the same condition, and its points come.
    assert 'href="/admin/catalog/item/map/?q=seed+3"' in html
    with override_settings(PGVECTOR_ADMIN=ESTIMATING):
        points = admin_client.get(ITEMS + "map/points/", {"q": "seed 3"})
    assert points.status_code == 200
    # Django's search: every word of "seed 3" in the label.
    matching = Item.objects.filter(label__icontains="seed").filter(label__icontains="3")
    shown = set(matching.values_list("pk", flat=True))
    assert set(points.json()["sample"]["ids"]) == shown


def test_below_the_threshold_the_list_counts_as_djangos_does(
    admin_client: Client, seed_items
) -> None:
    with CaptureQueriesContext(connection) as seen:
        html = admin_client.get(ITEMS).content.decode()
    assert counts(seen)
    assert f"{len(seed_items)} items" in html
    assert "count exactly" not in html


def test_the_estimate_reads_in_korean(admin_user, seed_items) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    client.force_login(admin_user)
    with override_settings(PGVECTOR_ADMIN=ESTIMATING):
        html = client.get(ITEMS).content.decode()
    assert "정확히 세기" in html
    assert re.search(r"약 [\d,]+개 items", html)
